// Which of a film's renditions this TV plays: its engine is asked about each, best first (the original
// HEVC with its HDR, the SDR H.264 film, the low one for weak links), with MediaCapabilities.decodingInfo
// where it has it and canPlayType with the codecs strings otherwise; HDR also needs a screen that shows it.
import { useEffect, useState } from 'preact/hooks'

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
 * What the player plays: `undefined` while the engine is asked, null when it plays none of the
 * renditions, else the best it plays (`role` null: a film published before renditions, its stream).
 * @param {Film} film
 * @returns {{ url: string, role: Rendition['role'] | null } | null | undefined}
 */
export function usePlaybackSource(film) {
  const [source, setSource] = useState(/** @type {{ url: string, role: Rendition['role'] | null } | null | undefined} */ (undefined))
  useEffect(() => {
    if (film.renditions.length === 0) {
      setSource({ url: film.streamUrl, role: null })
      return
    }
    let current = true
    playableRenditions(film).then(playable => {
      if (current) setSource(playable.length === 0 ? null : { url: playable[0].url, role: playable[0].role })
    })
    return () => {
      current = false
    }
  }, [film.tokenId])
  return source
}
