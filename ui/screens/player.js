// Full-screen playback of the decrypted stream, with the film's WebVTT subtitles as tracks.
import { html } from 'htm/preact'
import { useRef, useState } from 'preact/hooks'
import { Message, useBack } from './common.js'

/** @typedef {import('../api.js').Film} Film */

const SEEK_STEP_SECONDS = 10
// Remote media keys: LG webOS and Samsung Tizen codes alongside the standard key names.
const PLAY_PAUSE_KEYS = new Set(['MediaPlayPause', 'MediaPlay', 'MediaPause'])
const PLAY_PAUSE_KEYCODES = new Set([415, 19, 10252])

/** @param {HTMLVideoElement} video */
function togglePlayback(video) {
  if (video.paused) video.play().catch(() => {})
  else video.pause()
}

/**
 * Enter and media keys play/pause, Left/Right seek. Returns whether the key was used.
 * @param {HTMLVideoElement} video
 * @param {KeyboardEvent} event
 */
function handlePlayerKey(video, event) {
  if (event.key === 'Enter' || PLAY_PAUSE_KEYS.has(event.key) || PLAY_PAUSE_KEYCODES.has(event.keyCode)) {
    togglePlayback(video)
  } else if (event.key === 'ArrowLeft' || event.key === 'ArrowRight') {
    const step = event.key === 'ArrowLeft' ? -SEEK_STEP_SECONDS : SEEK_STEP_SECONDS
    video.currentTime = Math.max(0, Math.min(video.duration || 0, video.currentTime + step))
  } else {
    return false
  }
  return true
}

/** @param {{ film: Film, onBack: () => void }} props */
export function PlayerScreen({ film, onBack }) {
  useBack(onBack)
  const video = useRef(/** @type {HTMLVideoElement | null} */ (null))
  const [failed, setFailed] = useState(false)

  if (failed) {
    return html`<div class="screen player">
      <${Message}
        title="This film could not be played"
        detail="The stream stopped or could not be decoded by this TV."
        actionLabel="Back"
        onAction=${onBack}
      />
    </div>`
  }
  return html`<div class="screen player">
    <video
      ref=${video}
      class="player-video"
      src=${film.streamUrl}
      poster=${film.posterUrl}
      controls
      autoplay
      playsinline
      preload="auto"
      data-autofocus
      onError=${() => setFailed(true)}
      onKeyDown=${(/** @type {KeyboardEvent} */ event) => {
        if (video.current && handlePlayerKey(video.current, event)) event.preventDefault()
      }}
    >
      ${film.subtitles.map(track => html`<track key=${track.url} kind="subtitles" srclang=${track.language} label=${track.label} src=${track.url} />`)}
    </video>
    <div class="player-title" aria-hidden="true">${film.title}</div>
  </div>`
}
