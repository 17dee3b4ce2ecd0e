// Pieces shared by the screens: Back registration, focus scopes, state panels, poster, progress bar, top bar.
import { html } from 'htm/preact'
import { useLayoutEffect, useRef, useState } from 'preact/hooks'
import { onBack, openFocusScope } from '../focus.js'

/** @typedef {import('../api.js').Film} Film */

/**
 * Makes Back run `handler` while the calling component is on screen (no handler: Back is left alone).
 * @param {((event: KeyboardEvent) => void) | undefined} handler
 */
export function useBack(handler) {
  const latest = useRef(handler)
  latest.current = handler
  const active = handler !== undefined
  // a layout effect: the handler is in place in the same commit that shows the screen and moves focus
  useLayoutEffect(() => (active ? onBack(event => latest.current?.(event)) : undefined), [active])
}

/**
 * Confines the remote to the element `ref` points at while the calling component is on screen, with
 * Back running `onClose`; focus goes back to where it was when the component goes away. A modal scope
 * (a dialog) makes the rest of the page inert meanwhile.
 * @param {{ current: HTMLElement | null }} ref
 * @param {() => void} onClose
 * @param {{ modal?: boolean }} [opts]
 */
export function useFocusScope(ref, onClose, opts) {
  useBack(onClose)
  useLayoutEffect(() => (ref.current ? openFocusScope(ref.current, opts) : undefined), [])
}

/** @param {{ value: number, label?: string }} props value 0..1 */
export function ProgressBar({ value, label }) {
  const percent = Math.min(100, Math.max(0, value * 100))
  return html`<div
    class="progress"
    role="progressbar"
    aria-label=${label}
    aria-valuemin="0"
    aria-valuemax="100"
    aria-valuenow=${Math.round(percent)}
  >
    <div class="progress-fill" style=${{ width: `${percent}%` }}></div>
  </div>`
}

/** The film's poster, or its title set on a plain panel if the image will not load. @param {{ film: Film, className?: string }} props */
export function Poster({ film, className = '' }) {
  const [failed, setFailed] = useState(false)
  return html`<div class=${`poster ${className}`}>
    ${
      failed
        ? html`<div class="poster-fallback"><span>${film.title}</span></div>`
        : html`<img src=${film.posterUrl} alt="" decoding="async" loading="lazy" onError=${() => setFailed(true)} />`
    }
  </div>`
}

/** A wait that still holds focus, so the remote is never pointed at nothing. @param {{ label: string }} props */
export function Loading({ label }) {
  return html`<div class="state" role="status" tabindex="-1" data-autofocus>
    <div class="spinner" aria-hidden="true"></div>
    <p class="state-detail">${label}</p>
  </div>`
}

/**
 * A panel with a message and one action that takes focus (Retry, Refresh, Back…).
 * @param {{ title: string, detail?: string, actionLabel: string, onAction: () => void, onBack?: () => void, heading?: 'h1' | 'h2' }} props
 */
export function Message({ title, detail, actionLabel, onAction, onBack, heading = 'h1' }) {
  useBack(onBack)
  const Heading = heading
  return html`<div class="state" role="alert">
    <${Heading} class="state-title">${title}<//>
    ${detail && html`<p class="state-detail">${detail}</p>`}
    <button class="button button-primary" data-autofocus onClick=${onAction}>${actionLabel}</button>
  </div>`
}

/**
 * A whole screen holding only a message: errors and dead ends that must still lead somewhere.
 * @param {{ screen: string, title: string, detail?: string, actionLabel: string, onAction: () => void, onBack?: () => void }} props
 */
export function MessageScreen({ screen, ...message }) {
  return html`<main class="screen" data-screen=${screen}><${Message} ...${message} /></main>`
}

/**
 * A dialog over the screen: the remote stays inside it, Back and Cancel close it, focus returns to
 * what opened it. The [data-autofocus] element inside (the safe choice) takes focus.
 * @param {{ title: string, children: any, onClose: () => void, describedBy?: string }} props
 */
export function Dialog({ title, children, onClose, describedBy }) {
  const panel = useRef(/** @type {HTMLElement | null} */ (null))
  useFocusScope(panel, onClose, { modal: true })
  return html`<div class="dialog-backdrop">
    <section ref=${panel} class="dialog" role="dialog" aria-modal="true" aria-labelledby="dialog-title" aria-describedby=${describedBy}>
      <h2 id="dialog-title" class="dialog-title">${title}</h2>
      ${children}
    </section>
  </div>`
}

/** The product name as it appears at the top of screens. */
export function Wordmark() {
  return html`<div class="wordmark"><span class="wordmark-seed" aria-hidden="true"></span>Seed One</div>`
}

/**
 * The top of a screen: the wordmark, a title, and whatever the screen puts on the right.
 * @param {{ children?: any }} props
 */
export function TopBar({ children }) {
  return html`<header class="topbar">
    <${Wordmark} />
    <div class="topbar-end">${children}</div>
  </header>`
}
