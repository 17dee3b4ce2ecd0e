// HLS in the player where the engine has no native HLS: hls.js, from a script of its own (box/hls.js,
// built from ui/hls-player.js) loaded the first time a film needs it, so the TV UI's own script stays small.
import { useEffect } from 'preact/hooks'

/** @typedef {typeof import('hls.js/light').default} HlsClass */

/** @type {Promise<HlsClass> | undefined} */
let loading

/** @returns {Promise<HlsClass>} */
function loadHlsJs() {
  if (loading === undefined) {
    loading = new Promise((resolve, reject) => {
      const script = document.createElement('script')
      script.src = '/hls.js'
      script.onload = () => resolve(/** @type {any} */ (window).seedOneHls)
      script.onerror = () => {
        loading = undefined
        reject(new Error('the HLS player (hls.js) did not load'))
      }
      document.head.appendChild(script)
    })
  }
  return loading
}

/** hls.js plays HLS where the engine has Media Source Extensions. */
export function hlsJsPlays() {
  return typeof MediaSource !== 'undefined'
}

/** The engine says it plays HLS itself (TV engines, Safari): the <video> takes the playlist as its source. */
export function nativeHls() {
  return document.createElement('video').canPlayType('application/vnd.apple.mpegurl') !== ''
}

/**
 * Plays the master playlist at `url` in `video` with hls.js (when `enabled`); the variant playing is
 * kept in the video's data-variant (its media playlist's name: `low`, `sdr`, `original`); a fatal error
 * calls `onFailed`.
 * @param {{ current: HTMLVideoElement | null }} video
 * @param {string | null} url null: not an hls.js playback
 * @param {() => void} onFailed
 */
export function useHlsJs(video, url, onFailed) {
  useEffect(() => {
    const element = video.current
    if (url === null || element === null) return
    /** @type {import('hls.js/light').default | undefined} */
    let hls
    let closed = false
    loadHlsJs().then(
      Hls => {
        if (closed) return
        // no worker: the box's pages allow scripts from its own files only, and a worker would be a blob
        const player = new Hls({ enableWorker: false })
        hls = player
        player.on(Hls.Events.LEVEL_SWITCHED, (_event, data) => {
          const level = player.levels[data.level]
          element.dataset.variant = level ? level.url[0].replace(/^.*\/|\.m3u8.*$/g, '') : ''
        })
        player.on(Hls.Events.ERROR, (_event, data) => {
          console.warn('Seed One: HLS', data.fatal ? 'failed' : 'recovering', data.details, data.error && data.error.message)
          if (data.fatal) onFailed()
        })
        player.loadSource(url)
        player.attachMedia(element)
      },
      () => {
        if (!closed) onFailed()
      }
    )
    return () => {
      closed = true
      if (hls) hls.destroy()
    }
  }, [url])
}
