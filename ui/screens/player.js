// Full-screen playback of the decrypted stream, the rendition this TV decodes best (renditions.js), with
// controls made for a remote: a seek bar with thumbnail previews, ±10 s / ±60 s jumps, chapter skip
// (channel up/down, and a chapter menu), subtitle and audio-track menus, media keys, and the position
// saved every few seconds and on the way out.
import { html } from 'htm/preact'
import { useCallback, useEffect, useLayoutEffect, useRef, useState } from 'preact/hooks'
import { putPlayback } from '../api.js'
import { onRemoteKey } from '../focus.js'
import { MessageScreen, useBack } from '../components/common.js'
import { SeekBar } from '../components/seek-bar.js'
import { SubtitleLines, useSubtitleLines } from '../components/subtitles.js'
import { TrackMenu } from '../components/track-menu.js'
import { pictureSubtitleSource, pictureSubtitleTracks, usePlaybackSource } from '../components/renditions.js'
import { useHlsJs } from '../components/hls.js'
import { chapterIndexAt, nextChapterStart, previousChapterStart } from '../components/chapters.js'
import { formatClock, languageName, startingSubtitle, subtitleLabel } from '../format.js'

/** @typedef {import('../api.js').Film} Film */
/** @typedef {import('../focus.js').RemoteAction} RemoteAction */
/** @typedef {{ label: string, enabled: boolean }} AudioChoice */

const SHORT_JUMP_SEC = 10
const LONG_JUMP_SEC = 60
const SAVE_EVERY_MS = 5000
const CONTROLS_HIDE_MS = 4000
/** Scrubbing waits this long after the last key before it seeks, so a run of presses seeks once. */
const SCRUB_SETTLE_MS = 800

/** @param {HTMLVideoElement} video */
function togglePlayback(video) {
  if (video.paused) video.play().catch(() => {})
  else video.pause()
}

/**
 * The browser's audio tracks where it exposes them (webOS, Tizen, Safari; Chromium behind a flag), named
 * by their language; a track's own label (often only the muxer's "SoundHandler") is added where two
 * tracks share a language.
 * @param {HTMLVideoElement} video
 * @returns {AudioChoice[]}
 */
function audioChoices(video) {
  const tracks = /** @type {any} */ (video).audioTracks
  if (!tracks) return []
  const all = Array.from({ length: tracks.length }, (_, i) => tracks[i])
  const names = all.map((track, i) => (track.language ? languageName(track.language) : track.label || `Track ${i + 1}`))
  return all.map((track, i) => {
    const shared = names.filter(name => name === names[i]).length > 1
    return { label: shared ? `${names[i]} (${track.label || i + 1})` : names[i], enabled: track.enabled }
  })
}

/**
 * Saves the owner's position every SAVE_EVERY_MS while playing, when the page goes away, and when the
 * player closes; `save()` saves now. Nothing is saved for a guest (the box would refuse it).
 * @param {string} tokenId
 * @param {{ current: { position: number, duration: number } }} clock the latest position, read when saving
 * @param {{ current: HTMLVideoElement | null }} video
 * @param {boolean} enabled
 */
function useProgressSaving(tokenId, clock, video, enabled) {
  // the position last sent, and that request: a second save of the same position waits for the first
  const last = useRef({ positionSec: -1, request: Promise.resolve() })
  const save = useCallback(
    (keepalive = false) => {
      const { position, duration } = clock.current
      if (!enabled || !(duration > 0) || !Number.isFinite(duration)) return Promise.resolve()
      const positionSec = Math.round(Math.min(position, duration) * 10) / 10
      if (positionSec === last.current.positionSec) return last.current.request
      const request = putPlayback(tokenId, { positionSec, durationSec: duration }, { keepalive }).catch(error => {
        if (last.current.positionSec === positionSec) last.current.positionSec = -1 // try again at the next save
        console.warn('Seed One: the position was not saved', error)
      })
      last.current = { positionSec, request }
      return request
    },
    [tokenId, enabled]
  )
  useEffect(() => {
    const timer = setInterval(() => {
      if (video.current && !video.current.paused) save()
    }, SAVE_EVERY_MS)
    const pageHidden = () => save(true)
    addEventListener('pagehide', pageHidden)
    return () => {
      clearInterval(timer)
      removeEventListener('pagehide', pageHidden)
      // the page stays when the player closes: no keepalive, which Chromium 68 refuses for this request
      save()
    }
  }, [save])
  return save
}

/**
 * @param {{ label: string, onClick: () => void, children: any, focusKey: string, className?: string }} props
 */
function ControlButton({ label, onClick, children, focusKey, className = '' }) {
  return html`<button class=${`control ${className}`} aria-label=${label} data-focus-key=${focusKey} onClick=${onClick}>
    ${children}
  </button>`
}

/**
 * `onStreamFailed` asks for the library again when the video fails: a stream the box cut because the
 * film was sold shows as a failure here, and the library says why.
 * @param {{ film: Film, startAt: number, saveProgress: boolean, onStreamFailed: () => void, onBack: () => void }} props
 */
export function PlayerScreen({ film, startAt, saveProgress, onStreamFailed, onBack }) {
  const video = useRef(/** @type {HTMLVideoElement | null} */ (null))
  const clock = useRef({ position: startAt, duration: film.durationSeconds })
  const [position, setPosition] = useState(startAt)
  const [duration, setDuration] = useState(film.durationSeconds)
  const [paused, setPaused] = useState(false)
  const [buffering, setBuffering] = useState(true)
  const [failed, setFailed] = useState(false)
  // the rendition this engine decodes best (undefined while it is asked)
  const { source: bestSource, fallBack } = usePlaybackSource(film)
  // the picture subtitle stream chosen (an index of film.imageSubtitles; -1: none): its version plays instead
  const [picture, setPicture] = useState(-1)
  const source = pictureSubtitleSource(film, picture) ?? bestSource
  // where the next source starts: the film's start position, then where a failed or left source had got to
  const resumeAt = useRef(startAt)
  /** Plays the version with picture subtitle stream `index` (-1: the film without), from where the film is. @param {number} index */
  const choosePicture = index => {
    if (index === picture) return
    resumeAt.current = clock.current.position
    setPicture(index)
  }
  /**
   * A failure tries the next source from where the film had got to; without one, the film stops. A
   * picture subtitles version that fails gives way to the film without them.
   */
  const streamFailed = () => {
    resumeAt.current = clock.current.position
    if (picture !== -1) setPicture(-1)
    else if (!fallBack()) {
      setFailed(true)
      onStreamFailed()
    }
  }
  const latestFailure = useRef(streamFailed)
  latestFailure.current = streamFailed
  useHlsJs(video, source?.kind === 'hls' && !source.native ? source.url : null, () => latestFailure.current())
  const [controlsAwake, setControlsAwake] = useState(true)
  const [menu, setMenu] = useState(/** @type {'subtitles' | 'audio' | 'chapters' | null} */ (null))
  // the film's default track, else its forced one: the viewer's choice lasts while the player is open
  const [subtitle, setSubtitle] = useState(() => startingSubtitle(film))
  const [audio, setAudio] = useState(/** @type {AudioChoice[]} */ ([]))
  const [scrubTo, setScrubTo] = useState(/** @type {number | null} */ (null))
  const scrub = useRef({
    to: /** @type {number | null} */ (null),
    timer: /** @type {ReturnType<typeof setTimeout> | undefined} */ (undefined)
  })
  const hideTimer = useRef(/** @type {ReturnType<typeof setTimeout> | undefined} */ (undefined))
  const save = useProgressSaving(film.tokenId, clock, video, saveProgress)
  const controlsShown = controlsAwake || paused || menu !== null || scrubTo !== null

  const wakeControls = useCallback(() => {
    setControlsAwake(true)
    clearTimeout(hideTimer.current)
    hideTimer.current = setTimeout(() => setControlsAwake(false), CONTROLS_HIDE_MS)
  }, [])
  useEffect(() => {
    wakeControls()
    return () => {
      clearTimeout(hideTimer.current)
      clearTimeout(scrub.current.timer)
    }
  }, [])

  const exit = async () => {
    video.current?.pause()
    await save()
    onBack()
  }
  useBack(exit)

  /** @param {number} seconds */
  const seekTo = seconds => {
    const v = video.current
    if (!v) return
    const to = Math.max(0, Math.min(clock.current.duration || 0, seconds))
    v.currentTime = to
    clock.current.position = to
    setPosition(to)
  }
  /** Ends a scrub without seeking; returns where it had got to (null when there was none). */
  const endScrub = () => {
    clearTimeout(scrub.current.timer)
    const to = scrub.current.to
    scrub.current.to = null
    setScrubTo(null)
    return to
  }
  /** @param {number} delta from where a scrub had got to, else from where the film is */
  const seekBy = delta => seekTo((endScrub() ?? clock.current.position) + delta)
  const commitScrub = () => {
    const to = endScrub()
    if (to !== null) seekTo(to)
  }
  /** @param {number} delta */
  const scrubBy = delta => {
    const to = Math.max(0, Math.min(clock.current.duration, (scrub.current.to ?? clock.current.position) + delta))
    scrub.current.to = to
    setScrubTo(to)
    clearTimeout(scrub.current.timer)
    scrub.current.timer = setTimeout(commitScrub, SCRUB_SETTLE_MS)
  }

  /** Next (1) or previous (-1) chapter, from where a scrub had got to or the film is. @param {1 | -1} direction */
  const skipChapter = direction => {
    const from = endScrub() ?? clock.current.position
    const to = direction === 1 ? nextChapterStart(film.chapters, from) : previousChapterStart(film.chapters, from)
    if (to !== null) seekTo(to)
    wakeControls()
  }

  const togglePlay = () => {
    if (video.current) togglePlayback(video.current)
    wakeControls()
  }

  /**
   * The player's keys, before navigation: media keys always; with the controls asleep, ←/→ jump and
   * Enter plays or pauses; on the seek bar, ←/→ scrub and Enter seeks. Anything else wakes the controls
   * and is left to navigation (and Back to useBack).
   * @param {RemoteAction} action
   */
  const handleKey = action => {
    const v = video.current
    if (!v) return false
    const onSeekBar = document.activeElement?.classList.contains('seekbar') === true
    switch (action) {
      case 'playPause':
        togglePlay()
        return true
      case 'play':
        v.play().catch(() => {})
        wakeControls()
        return true
      case 'pause':
        v.pause()
        wakeControls()
        return true
      case 'stop':
        exit()
        return true
      case 'rewind':
      case 'fastForward':
        seekBy(action === 'rewind' ? -SHORT_JUMP_SEC : SHORT_JUMP_SEC)
        wakeControls()
        return true
      case 'nextChapter':
      case 'previousChapter':
        if (film.chapters.length === 0) return false
        skipChapter(action === 'nextChapter' ? 1 : -1)
        return true
    }
    if (menu !== null || action === 'back') return false
    const asleep = !controlsShown
    wakeControls()
    if (action === 'left' || action === 'right') {
      const delta = action === 'left' ? -SHORT_JUMP_SEC : SHORT_JUMP_SEC
      if (onSeekBar && !asleep) scrubBy(delta)
      else if (asleep) seekBy(delta)
      else return false
      return true
    }
    if (action === 'enter' && (asleep || onSeekBar)) {
      if (scrub.current.to !== null) commitScrub()
      else togglePlay()
      return true
    }
    return asleep // the first key only wakes the controls
  }
  const latestKeyHandler = useRef(handleKey)
  latestKeyHandler.current = handleKey
  useLayoutEffect(() => onRemoteKey(action => latestKeyHandler.current(action)), [])

  const subtitleLines = useSubtitleLines(video, subtitle)

  /** @param {number} index */
  const chooseAudio = index => {
    const tracks = /** @type {any} */ (video.current)?.audioTracks
    if (!tracks) return
    for (let i = 0; i < tracks.length; i++) tracks[i].enabled = i === index
    setAudio(audioChoices(/** @type {HTMLVideoElement} */ (video.current)))
  }

  if (failed || source === null) {
    return html`<${MessageScreen}
      screen=${`player:${film.tokenId}`}
      title="This film could not be played"
      detail=${failed ? 'The stream stopped or this TV could not decode it.' : 'This TV cannot decode any version of this film.'}
      actionLabel="Back"
      onAction=${onBack}
      onBack=${onBack}
    />`
  }

  const closeMenu = () => setMenu(null)
  const pictureTracks = pictureSubtitleTracks(film)
  /** @param {{ language: string, label: string | null, forced: boolean }} stream */
  const pictureLabel = stream =>
    `${stream.label ?? (stream.language === 'und' ? 'Unknown language' : languageName(stream.language))}${stream.forced ? ' (forced)' : ''} (picture subtitles)`
  const pictureChosen = pictureTracks.find(track => track.index === picture)
  const subtitleChoice = pictureChosen
    ? pictureLabel(pictureChosen)
    : subtitle === -1 || !film.subtitles[subtitle]
      ? 'Off'
      : subtitleLabel(film.subtitles[subtitle])
  const chapterIndex = chapterIndexAt(film.chapters, position)
  const audioLabel = audio.find(track => track.enabled)?.label ?? audio[0]?.label
  return html`<main class=${`screen player ${controlsShown ? '' : 'player-asleep'}`} data-screen=${`player:${film.tokenId}`}>
    <video
      ref=${video}
      class="player-video"
      src=${source && (source.kind === 'file' || source.native) ? source.url : undefined}
      data-rendition=${source?.kind === 'file' ? (source.role ?? undefined) : undefined}
      poster=${film.posterUrl}
      autoplay
      playsinline
      preload="auto"
      aria-label=${film.title}
      onLoadedMetadata=${(/** @type {Event} */ event) => {
        const v = /** @type {HTMLVideoElement} */ (event.currentTarget)
        if (Number.isFinite(v.duration) && v.duration > 0) {
          clock.current.duration = v.duration
          setDuration(v.duration)
        }
        if (resumeAt.current > 0) v.currentTime = resumeAt.current
        setAudio(audioChoices(v))
      }}
      onTimeUpdate=${(/** @type {Event} */ event) => {
        const v = /** @type {HTMLVideoElement} */ (event.currentTarget)
        clock.current.position = v.currentTime
        setPosition(v.currentTime)
      }}
      onPlay=${() => setPaused(false)}
      onPause=${() => {
        setPaused(true)
        save()
      }}
      onWaiting=${() => setBuffering(true)}
      onPlaying=${() => setBuffering(false)}
      onCanPlay=${() => setBuffering(false)}
      onSeeked=${() => setBuffering(false)}
      onEnded=${exit}
      onError=${(/** @type {Event} */ event) => {
        // only a media error stops the film: Chromium 68 and 88 also fire error here when the poster fails to load
        if (!(/** @type {HTMLVideoElement} */ (event.currentTarget).error)) return
        // hls.js reports its failures itself (useHlsJs); the src it takes over from is emptied with an error
        if (source?.kind === 'hls' && !source.native) return
        streamFailed()
      }}
    >
      ${film.subtitles.map(track => html`<track key=${track.url} kind="subtitles" srclang=${track.language} label=${track.label} src=${track.url} />`)}
    </video>
    <${SubtitleLines} lines=${subtitleLines} />
    ${buffering && html`<div class="player-buffering" role="status" aria-label="Loading"><div class="spinner"></div></div>`}
    <div class="osd osd-top" aria-hidden=${controlsShown ? undefined : 'true'}>
      <h1 class="osd-title">${film.title}</h1>
      ${paused && html`<span class="osd-state">Paused</span>`}
    </div>
    <div class="osd osd-bottom">
      <${SeekBar} position=${position} duration=${duration} scrubTo=${scrubTo} thumbnails=${film.thumbnails} onSeekTo=${seekTo} />
      <div class="osd-buttons">
        <div class="osd-group"></div>
        <div class="osd-group osd-transport">
          <${ControlButton} label="Back 60 seconds" focusKey="back-60" onClick=${() => seekBy(-LONG_JUMP_SEC)}>−60<//>
          <${ControlButton} label="Back 10 seconds" focusKey="back-10" onClick=${() => seekBy(-SHORT_JUMP_SEC)}>−10<//>
          <${ControlButton} label=${paused ? 'Play' : 'Pause'} focusKey="play-pause" className="control-main" onClick=${togglePlay}>
            <svg class="icon" viewBox="0 0 24 24" aria-hidden="true">
              ${paused ? html`<path d="M7 4.5v15l13-7.5z" fill="currentColor" />` : html`<path d="M6 4h4v16H6zm8 0h4v16h-4z" fill="currentColor" />`}
            </svg>
          <//>
          <${ControlButton} label="Forward 10 seconds" focusKey="forward-10" onClick=${() => seekBy(SHORT_JUMP_SEC)}>+10<//>
          <${ControlButton} label="Forward 60 seconds" focusKey="forward-60" onClick=${() => seekBy(LONG_JUMP_SEC)}>+60<//>
        </div>
        <div class="osd-group osd-tracks">
          ${
            film.chapters.length > 0 &&
            html`<button class="control control-text" data-focus-key="chapters" aria-haspopup="menu" onClick=${() => setMenu('chapters')}>
              Chapter: ${chapterIndex === -1 ? film.chapters[0].title : film.chapters[chapterIndex].title}
            </button>`
          }
          ${
            film.subtitles.length + pictureTracks.length > 0 &&
            html`<button class="control control-text" data-focus-key="subtitles" aria-haspopup="menu" onClick=${() => setMenu('subtitles')}>
              Subtitles: ${subtitleChoice}
            </button>`
          }
          ${
            audio.length > 0 &&
            html`<button class="control control-text" data-focus-key="audio" aria-haspopup="menu" onClick=${() => setMenu('audio')}>
              Audio: ${audioLabel}
            </button>`
          }
        </div>
      </div>
      ${
        menu === 'subtitles' &&
        html`<${TrackMenu}
          title="Subtitles"
          onClose=${closeMenu}
          options=${[
            {
              label: 'Off',
              checked: subtitle === -1 && !pictureChosen,
              onSelect: () => {
                setSubtitle(-1)
                choosePicture(-1)
              }
            },
            ...film.subtitles.map((track, index) => ({
              label: subtitleLabel(track),
              checked: subtitle === index && !pictureChosen,
              onSelect: () => {
                setSubtitle(index)
                choosePicture(-1)
              }
            })),
            ...pictureTracks.map(track => ({
              label: pictureLabel(track),
              checked: track === pictureChosen,
              onSelect: () => {
                setSubtitle(-1)
                choosePicture(track.index)
              }
            }))
          ]}
        />`
      }
      ${
        menu === 'chapters' &&
        html`<${TrackMenu}
          title="Chapters"
          onClose=${closeMenu}
          options=${film.chapters.map((chapter, index) => ({
            label: `${formatClock(chapter.startSeconds)}  ${chapter.title}`,
            checked: index === chapterIndex,
            onSelect: () => seekTo(chapter.startSeconds)
          }))}
        />`
      }
      ${
        menu === 'audio' &&
        html`<${TrackMenu}
          title="Audio"
          onClose=${closeMenu}
          options=${audio.map((track, index) => ({ label: track.label, checked: track.enabled, onSelect: () => chooseAudio(index) }))}
        />`
      }
    </div>
  </main>`
}
