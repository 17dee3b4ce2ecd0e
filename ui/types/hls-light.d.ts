// hls.js's light build has the full build's API less what the box's playlists do not use; the package
// ships types for the full one only.
declare module 'hls.js/light' {
  export { default } from 'hls.js'
}
