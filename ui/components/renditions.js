// Which of a film's renditions this TV plays: its engine is asked about each, best first (the original
// HEVC with its HDR, the SDR H.264 film, the low one for weak links), with MediaCapabilities.decodingInfo
// where it has it and canPlayType with the codecs strings otherwise; HDR also needs a screen that shows it.
import { useEffect, useState } from 'preact/hooks'
import { hlsJsPlays, nativeHls } from './hls.js'

/** @typedef {import('../api.js').Film} Film */
/** @typedef {Film['renditions'][number]} Rendition */

/** The metadata has no frame rate: 30 a second covers films (24, 25, 30); an engine that decodes it decodes them. */
const ASSUMED_FRAMERATE = 30

/** @param {string} codecs */
const mp4Type = codecs => `video/mp4; codecs="${codecs}"`

/** The screen shows HDR; an engine that does not know the query answers no, so it gets SDR. */
function showsHdr() {
  return typeof matchMedia === 'function' && matchMedia('(dynamic-range: high)').matches
}

/**
 * The question decodingInfo is asked: the video with its size, bits a second and (HDR) transfer and
 * gamut; the default audio track (AAC stereo), which plays first.
 * @param {Rendition} rendition
 * @returns {MediaDecodingConfiguration}
 */
function decodingQuestion(rendition) {
  /** @type {VideoConfiguration} */
  const video = {
    contentType: mp4Type(rendition.videoCodecs),
    width: rendition.width,
    height: rendition.height,
    bitrate: rendition.bitrate,
    framerate: ASSUMED_FRAMERATE
  }
  if (rendition.hdr !== 'sdr') {
    video.transferFunction = rendition.hdr
    video.colorGamut = 'rec2020'
  }
  /** @type {MediaDecodingConfiguration} */
  const question = { type: 'file', video }
  if (rendition.audioCodecs !== null) question.audio = { contentType: `audio/mp4; codecs="${rendition.audioCodecs}"` }
  return question
}

/**
 * Whether this engine decodes `rendition` (and, for HDR, the screen shows it).
 * @param {Rendition} rendition
 * @param {HTMLVideoElement} probe
 * @returns {Promise<boolean>}
 */
async function engineDecodes(rendition, probe) {
  if (rendition.hdr !== 'sdr' && !showsHdr()) return false
  const capabilities = navigator.mediaCapabilities
  if (capabilities && typeof capabilities.decodingInfo === 'function') {
    try {
      return (await capabilities.decodingInfo(decodingQuestion(rendition))).supported
    } catch (error) {
      // an engine that refuses the question (an older dictionary): canPlayType answers it
    }
  }
  const codecs = rendition.audioCodecs === null ? rendition.videoCodecs : `${rendition.videoCodecs},${rendition.audioCodecs}`
  return probe.canPlayType(mp4Type(codecs)) !== ''
}

/**
 * The film's renditions this engine plays, best first.
 * @param {Film} film
 * @returns {Promise<Rendition[]>}
 */
export async function playableRenditions(film) {
  const probe = document.createElement('video')
  const playable = []
  for (const rendition of film.renditions) if (await engineDecodes(rendition, probe)) playable.push(rendition)
  return playable
}

/**
 * What the player plays: a rendition's stream (`role` null: a film published before renditions, its
 * stream; `subtitled`: the version with a picture subtitle stream burned in, pictureSubtitleSource), or
 * HLS over the renditions it plays (`native`: by the engine itself, else with hls.js).
 * @typedef {{ kind: 'file', url: string, role: Rendition['role'] | 'subtitled' | null } | { kind: 'hls', url: string, native: boolean }} PlaybackSource
 */

/**
 * The film's picture subtitle streams the viewer can pick (imageSubtitles with a version made at
 * publish), each with its index in imageSubtitles.
 * @param {Film} film
 */
export function pictureSubtitleTracks(film) {
  // not flatMap: Chromium 68, the TV floor, lacks it
  const tracks = film.imageSubtitles.map((stream, index) => ({ ...stream, index }))
  return tracks.filter(track => track.url !== null)
}

/**
 * The stream of the film's version with picture subtitle stream `index` burned in: H.264 SDR, which
 * every engine decodes, so it is played directly, not asked about; null for none (-1) or no such version.
 * @param {Film} film
 * @param {number} index
 * @returns {PlaybackSource | null}
 */
export function pictureSubtitleSource(film, index) {
  const url = film.imageSubtitles[index]?.url
  return typeof url === 'string' ? { kind: 'file', url, role: 'subtitled' } : null
}

/**
 * What the player tries, in order: HLS when two or more of the renditions the engine plays are
 * fragmented (a weak link then gets a lighter one, fragment by fragment), by the engine's own HLS then
 * hls.js; then the best rendition's stream. An engine's own HLS can say it plays a playlist and fail on
 * it (Chromium 156 answers "maybe" and fails on fragmented MP4 byte ranges, measured in
 * test/ui-renditions.test.ts): each failure before the film plays moves to the next.
 * @param {Film} film
 * @param {Rendition[]} playable best first
 * @returns {PlaybackSource[]}
 */
function sourcesOf(film, playable) {
  if (playable.length === 0) return []
  /** @type {PlaybackSource[]} */
  const sources = []
  const fragmented = playable.filter(rendition => rendition.fragmented)
  if (film.hlsUrl !== null && fragmented.length >= 2) {
    const url = `${film.hlsUrl}?roles=${fragmented.map(rendition => rendition.role).join(',')}`
    if (nativeHls()) sources.push({ kind: 'hls', url, native: true })
    // hls.js gives Media Source Extensions one audio codec for the fragments' every audio track, which
    // Chromium refuses for two ("Audio stream codec aac doesn't match SourceBuffer codecs", measured)
    if (hlsJsPlays() && fragmented.every(rendition => rendition.audioTracks <= 1)) sources.push({ kind: 'hls', url, native: false })
  }
  sources.push({ kind: 'file', url: playable[0].url, role: playable[0].role })
  return sources
}

/**
 * What the player plays (sourcesOf): `source` is undefined while the engine is asked, null when it
 * plays none of the film's renditions; `fallBack()` moves to the next source after a failure, and says
 * whether there was one.
 * @param {Film} film
 * @returns {{ source: PlaybackSource | null | undefined, fallBack: () => boolean }}
 */
export function usePlaybackSource(film) {
  const [sources, setSources] = useState(/** @type {PlaybackSource[] | undefined} */ (undefined))
  const [tried, setTried] = useState(0)
  useEffect(() => {
    if (film.renditions.length === 0) {
      setSources([{ kind: 'file', url: film.streamUrl, role: null }])
      return
    }
    let current = true
    playableRenditions(film).then(playable => {
      if (current) setSources(sourcesOf(film, playable))
    })
    return () => {
      current = false
    }
  }, [film.tokenId])
  const fallBack = () => {
    if (sources === undefined || tried + 1 >= sources.length) return false
    setTried(tried + 1)
    return true
  }
  return { source: sources === undefined ? undefined : (sources[tried] ?? null), fallBack }
}
