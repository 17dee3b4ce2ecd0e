// A menu of choices over the player (subtitles, audio tracks): the remote stays inside it, the current
// choice has focus when it opens, Enter picks, Back closes it without a change.
import { html } from 'htm/preact'
import { useRef } from 'preact/hooks'
import { useFocusScope } from './common.js'

/**
 * @typedef {{ label: string, checked: boolean, onSelect: () => void }} MenuOption
 * @param {{ title: string, options: MenuOption[], onClose: () => void }} props
 */
export function TrackMenu({ title, options, onClose }) {
  const panel = useRef(/** @type {HTMLElement | null} */ (null))
  useFocusScope(panel, onClose)
  return html`<div ref=${panel} class="menu" role="menu" aria-label=${title}>
    <div class="menu-title" aria-hidden="true">${title}</div>
    ${options.map(
      option =>
        html`<button
          class="menu-item"
          role="menuitemradio"
          aria-checked=${option.checked ? 'true' : 'false'}
          data-autofocus=${option.checked || undefined}
          onClick=${() => {
            option.onSelect()
            onClose()
          }}
        >
          <span class="menu-check" aria-hidden="true">${option.checked ? '✓' : ''}</span>${option.label}
        </button>`
    )}
  </div>`
}
