// Subtitles drawn by the player rather than the browser: TV browsers draw cues small and in their own
// style, and under the controls. The chosen track is 'hidden' (loaded, its cues tracked, nothing drawn
// natively) and its active cues are shown as text above the controls when they are up; a cue placed in
// the upper half of the picture (a sign, from ASS's \an8 or \pos) is shown at the top.
import { html } from 'htm/preact'
import { useEffect, useState } from 'preact/hooks'

/** @typedef {{ top: string[], bottom: string[] }} SubtitlePlaces the lines shown at the top and at the bottom */

/** @type {SubtitlePlaces} */
const NONE = { top: [], bottom: [] }

/**
 * The cues' text without its markup (<i>, <b>, voice tags), line by line.
 * @param {VTTCue[]} cues
 */
function linesOf(cues) {
  return cues
    .map(cue => cue.getCueAsHTML().textContent ?? '')
    .join('\n')
    .split('\n')
    .filter(line => line.trim() !== '')
}

/** A cue its settings place in the upper half of the picture (line:N% with N under 50). @param {VTTCue} cue */
const placedHigh = cue => !cue.snapToLines && typeof cue.line === 'number' && cue.line < 50

/**
 * The lines of the cues showing now on text track `index` of the video (-1: subtitles off), by place.
 * @param {{ current: HTMLVideoElement | null }} video
 * @param {number} index
 * @returns {SubtitlePlaces}
 */
export function useSubtitleLines(video, index) {
  const [lines, setLines] = useState(NONE)
  useEffect(() => {
    const tracks = video.current?.textTracks
    if (!tracks) return
    for (let i = 0; i < tracks.length; i++) tracks[i].mode = i === index ? 'hidden' : 'disabled'
    const track = index >= 0 ? tracks[index] : undefined
    setLines(NONE)
    if (!track) return
    const update = () => {
      const cues = /** @type {VTTCue[]} */ ([...(track.activeCues ?? [])])
      setLines({ top: linesOf(cues.filter(placedHigh)), bottom: linesOf(cues.filter(cue => !placedHigh(cue))) })
    }
    track.addEventListener('cuechange', update)
    update()
    return () => track.removeEventListener('cuechange', update)
  }, [index])
  return lines
}

/** @param {{ lines: SubtitlePlaces }} props */
export function SubtitleLines({ lines }) {
  /** @param {string[]} shown @param {string} className */
  const block = (shown, className) =>
    shown.length > 0 &&
    html`<div class=${className} aria-live="off">${shown.map(line => html`<span class="subtitle-line">${line}</span>`)}</div>`
  return html`${block(lines.top, 'subtitles subtitles-top')}${block(lines.bottom, 'subtitles')}`
}
