// Subtitles drawn by the player rather than the browser: TV browsers draw cues small and in their own
// style, and under the controls. The chosen track is 'hidden' (loaded, its cues tracked, nothing drawn
// natively) and its active cues are shown as text above the controls when they are up.
import { html } from 'htm/preact'
import { useEffect, useState } from 'preact/hooks'

/**
 * The lines of the cues showing now on text track `index` of the video (-1: subtitles off).
 * @param {{ current: HTMLVideoElement | null }} video
 * @param {number} index
 * @returns {string[]}
 */
export function useSubtitleLines(video, index) {
  const [lines, setLines] = useState(/** @type {string[]} */ ([]))
  useEffect(() => {
    const tracks = video.current?.textTracks
    if (!tracks) return
    for (let i = 0; i < tracks.length; i++) tracks[i].mode = i === index ? 'hidden' : 'disabled'
    const track = index >= 0 ? tracks[index] : undefined
    setLines([])
    if (!track) return
    const update = () => {
      const cues = /** @type {VTTCue[]} */ ([...(track.activeCues ?? [])])
      // the cue's text without its markup (<i>, <b>, voice tags), line by line
      setLines(
        cues
          .map(cue => cue.getCueAsHTML().textContent ?? '')
          .join('\n')
          .split('\n')
          .filter(line => line.trim() !== '')
      )
    }
    track.addEventListener('cuechange', update)
    update()
    return () => track.removeEventListener('cuechange', update)
  }, [index])
  return lines
}

/** @param {{ lines: string[] }} props */
export function SubtitleLines({ lines }) {
  if (lines.length === 0) return null
  return html`<div class="subtitles" aria-live="off">${lines.map(line => html`<span class="subtitle-line">${line}</span>`)}</div>`
}
