// Pieces shared by the screens: state panels, poster, progress bar, formatting, Back registration.
import { html } from 'htm/preact'
import { useLayoutEffect, useRef, useState } from 'preact/hooks'
import { onBack } from '../focus.js'

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

/** @param {number} seconds */
export function formatDuration(seconds) {
  const total = Math.max(0, Math.round(seconds))
  if (total < 60) return `${total} s`
  const hours = Math.floor(total / 3600)
  const minutes = Math.round((total % 3600) / 60)
  return hours > 0 ? `${hours} h ${String(minutes).padStart(2, '0')} min` : `${minutes} min`
}

/** Short form of a long hex identifier: 0x1234…abcd. @param {string} id */
export function shortId(id) {
  return id.length > 14 ? `${id.slice(0, 6)}…${id.slice(-4)}` : id
}

/** What the owner needs to know about a film that is not simply ready. @param {Film} film */
export function stateLabel(film) {
  switch (film.state) {
    case 'pending':
      return 'Queued'
    case 'pinning':
      return `Downloading ${Math.round(film.progress * 100)}%`
    case 'locked':
      return 'Locked — no longer owned'
    case 'error':
      return 'Could not be prepared'
    default:
      return 'Ready to play'
  }
}

/** @param {Film} film */
export const isPreparing = film => film.state === 'pending' || film.state === 'pinning'

/** @param {{ value: number }} props value 0..1 */
export function ProgressBar({ value }) {
  const percent = Math.min(100, Math.max(0, value * 100))
  return html`<div class="progress" role="progressbar" aria-valuemin="0" aria-valuemax="100" aria-valuenow=${Math.round(percent)}>
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
 * The library before its first answer: a wait, or the failure with Retry.
 * @param {{ error: Error | null, onRetry: () => void, onBack?: () => void }} props
 */
export function LibraryLoading({ error, onRetry, onBack }) {
  return error
    ? html`<${Message}
        title="Your library could not be loaded"
        detail=${error.message}
        actionLabel="Retry"
        onAction=${onRetry}
        onBack=${onBack}
      />`
    : html`<${Loading} label="Loading your library…" />`
}

/**
 * A full-screen message with one action that takes focus (Retry, Refresh, Back to library…).
 * @param {{ title: string, detail?: string, actionLabel: string, onAction: () => void, onBack?: () => void }} props
 */
export function Message({ title, detail, actionLabel, onAction, onBack }) {
  useBack(onBack)
  return html`<div class="state" role="alert">
    <h1 class="state-title">${title}</h1>
    ${detail && html`<p class="state-detail">${detail}</p>`}
    <button class="button button-primary" data-autofocus onClick=${onAction}>${actionLabel}</button>
  </div>`
}

/** The product name as it appears at the top of screens. */
export function Wordmark() {
  return html`<div class="wordmark"><span class="wordmark-seed" aria-hidden="true"></span>Seed One</div>`
}
