// The player's seek bar: where the film is, and while the owner scrubs with ←/→, a preview frame from
// the publisher's thumbnail sheets above the position they are moving to.
import { html } from 'htm/preact'
import { formatClock } from '../format.js'
import { ThumbnailTile, tileAt, useThumbnailSheet } from './thumbnail-sheets.js'

/** @typedef {import('../api.js').Thumbnails} Thumbnails */

/**
 * @param {{
 *   position: number, duration: number, scrubTo: number | null, thumbnails: Thumbnails | null,
 *   onSeekTo: (seconds: number) => void
 * }} props scrubTo is where the owner is moving to (null when not scrubbing)
 */
export function SeekBar({ position, duration, scrubTo, thumbnails, onSeekTo }) {
  // only the sheet under a scrub is loaded: watching decodes none
  const tile = thumbnails && scrubTo !== null ? tileAt(thumbnails, scrubTo) : null
  const sheet = useThumbnailSheet(thumbnails, tile && tile.sheet)
  const shown = scrubTo ?? position
  const fraction = duration > 0 ? Math.min(1, Math.max(0, shown / duration)) : 0
  const playedFraction = duration > 0 ? Math.min(1, Math.max(0, position / duration)) : 0
  /** @param {MouseEvent} event a pointer click on the bar seeks there */
  const click = event => {
    const rect = /** @type {HTMLElement} */ (event.currentTarget).getBoundingClientRect()
    onSeekTo(((event.clientX - rect.left) / rect.width) * duration)
  }
  return html`<div class="seek">
    <span class="seek-time mono">${formatClock(shown)}</span>
    <div
      class=${`seekbar ${scrubTo !== null ? 'seekbar-scrubbing' : ''}`}
      role="slider"
      tabindex="0"
      aria-label="Position in the film"
      aria-valuemin="0"
      aria-valuemax=${Math.round(duration)}
      aria-valuenow=${Math.round(shown)}
      aria-valuetext=${`${formatClock(shown)} of ${formatClock(duration)}`}
      data-autofocus
      data-focus-key="seek"
      onClick=${click}
    >
      <div class="seekbar-track">
        <div class="seekbar-played" style=${{ width: `${playedFraction * 100}%` }}></div>
        ${scrubTo !== null && html`<div class="seekbar-target" style=${{ width: `${fraction * 100}%` }}></div>`}
      </div>
      <div class="seekbar-knob" style=${{ left: `${fraction * 100}%` }}></div>
      ${
        scrubTo !== null &&
        html`<div class="seek-preview" style=${{ left: `${fraction * 100}%` }} aria-hidden="true">
          ${thumbnails && tile && html`<${ThumbnailTile} thumbnails=${thumbnails} tile=${tile} sheet=${sheet} />`}
          <span class="seek-preview-time mono">${formatClock(scrubTo)}</span>
        </div>`
      }
    </div>
    <span class="seek-time seek-time-end mono">${formatClock(duration)}</span>
  </div>`
}
