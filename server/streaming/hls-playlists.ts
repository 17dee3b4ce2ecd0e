// HLS playlists (RFC 8216) over a film's fragmented renditions: a media playlist names each fragment as
// a byte range of the rendition's decrypted stream (its init segment by EXT-X-MAP), so a TV switches
// between renditions fragment by fragment while the box serves the sealed files as they are: nothing
// is cut, stored or kept in plaintext. The master playlist lists one variant a rendition.
import type { RenditionMetadata } from '../library/film-metadata.ts'
import type { Mp4FragmentIndex } from '../lib/mp4-fragments.ts'

/** EXT-X-MAP with BYTERANGE in a media playlist needs version 6; 7 is what the variants' players all read. */
const VERSION = 7

const VIDEO_RANGE = { sdr: 'SDR', pq: 'PQ', hlg: 'HLG' } as const

/** The VOD media playlist of a rendition served at `streamUrl`, from its fragment index. */
export function mediaPlaylist(index: Mp4FragmentIndex, streamUrl: string): string {
  const longest = Math.max(...index.fragments.map(f => f.seconds))
  const lines = [
    '#EXTM3U',
    `#EXT-X-VERSION:${VERSION}`,
    // a fragment's duration rounded to the nearest second must not exceed it (§4.3.3.1)
    `#EXT-X-TARGETDURATION:${Math.max(1, Math.round(longest))}`,
    '#EXT-X-PLAYLIST-TYPE:VOD',
    '#EXT-X-INDEPENDENT-SEGMENTS',
    `#EXT-X-MAP:URI="${streamUrl}",BYTERANGE="${index.initLength}@0"`
  ]
  for (const fragment of index.fragments) {
    lines.push(`#EXTINF:${fragment.seconds.toFixed(3)},`, `#EXT-X-BYTERANGE:${fragment.length}@${fragment.offset}`, streamUrl)
  }
  lines.push('#EXT-X-ENDLIST', '')
  return lines.join('\n')
}

/** The peak bits a second over the fragments (BANDWIDTH, §4.3.4.2), and the average (AVERAGE-BANDWIDTH). */
export function bandwidths(index: Mp4FragmentIndex): { peak: number; average: number } {
  const bits = index.fragments.reduce((sum, f) => sum + f.length * 8, 0)
  const seconds = index.fragments.reduce((sum, f) => sum + f.seconds, 0)
  const peak = Math.max(...index.fragments.map(f => (f.length * 8) / Math.max(f.seconds, 0.001)))
  return { peak: Math.ceil(peak), average: Math.ceil(bits / Math.max(seconds, 0.001)) }
}

/** One variant of the master playlist: a rendition, its media playlist's URL and its fragments' bandwidths. */
export interface Variant {
  rendition: RenditionMetadata
  playlistUrl: string
  bandwidth: { peak: number; average: number }
}

/**
 * The master playlist: each variant with its codecs, size, bandwidths and dynamic range. CODECS names
 * every track's, a language's AAC track twice for two languages: Chromium's Media Source Extensions
 * refuse an init segment with more audio tracks than the codecs listed ("Audio stream codec aac doesn't
 * match SourceBuffer codecs"), and hls.js hands them CODECS.
 */
export function masterPlaylist(variants: Variant[]): string {
  const lines = ['#EXTM3U', `#EXT-X-VERSION:${VERSION}`, '#EXT-X-INDEPENDENT-SEGMENTS']
  for (const { rendition, playlistUrl, bandwidth } of variants) {
    lines.push(
      `#EXT-X-STREAM-INF:BANDWIDTH=${bandwidth.peak},AVERAGE-BANDWIDTH=${bandwidth.average},CODECS="${rendition.codecs}",` +
        `RESOLUTION=${rendition.video.width}x${rendition.video.height},VIDEO-RANGE=${VIDEO_RANGE[rendition.video.hdr]}`,
      playlistUrl
    )
  }
  lines.push('')
  return lines.join('\n')
}
