// hls.js (its light build: no alternate audio, subtitles or DRM, which the box's playlists do not use),
// a script of its own that the player loads only on an engine without native HLS (components/hls.js).
import Hls from 'hls.js/light'

;/** @type {any} */ (window).seedOneHls = Hls
