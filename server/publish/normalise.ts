import ffmpeg from 'fluent-ffmpeg'
import { fractionOfFilm, runFfmpeg } from './ffmpeg-run.ts'
import { MediaError, type HdrFormat, type MediaInfo } from './probe.ts'

export interface NormalisePlan {
  videoCodec: 'copy' | 'libx264'
  /** 'aac' when at least one audio track needs re-encoding; tracks that already play are still copied */
  audioCodec: 'copy' | 'aac' | 'none'
  /** false when the input is already a faststart MP4 that plays: it is used as-is */
  remux: boolean
}

/** Audio codecs every browser decodes inside MP4. */
const PLAYABLE_AUDIO = new Set(['aac', 'mp3'])
/** H.264 decoders in browsers and TVs only promise 8-bit 4:2:0. */
const PLAYABLE_H264_PIXEL_FORMATS = new Set(['yuv420p', 'yuvj420p'])
/** Seconds between forced keyframes when re-encoding, so seeking lands close to where the viewer asked. */
const KEYFRAME_INTERVAL_SECONDS = 2

export function planNormalisation(info: MediaInfo): NormalisePlan {
  if (!info.video) throw new MediaError('cannot normalise media without a video stream')
  // HDR video is re-encoded even as H.264: this is the SDR rendition every engine shows right
  const videoPlays =
    info.video.codec === 'h264' && PLAYABLE_H264_PIXEL_FORMATS.has(info.video.pixelFormat ?? '') && info.video.hdr === 'sdr'
  const audioCodec = info.audio.length === 0 ? 'none' : info.audio.every(audioPlays) ? 'copy' : 'aac'
  const isMp4 = info.container.split(',').includes('mp4')
  return {
    videoCodec: videoPlays ? 'copy' : 'libx264',
    audioCodec,
    remux: !(isMp4 && info.faststart && videoPlays && audioCodec !== 'aac')
  }
}

/**
 * Fragmented MP4: empty moov then a moof per keyframe, a sidx per track at the front (so an HLS playlist
 * names the fragments as byte ranges, and a browser playing it directly starts at once as with
 * faststart); delay_moov because ffmpeg can only write an E-AC-3 track's moov entry once it has parsed
 * its first packets.
 */
export const FRAGMENTED_MP4 = ['-movflags', '+frag_keyframe+empty_moov+delay_moov+default_base_moof+global_sidx', '-f', 'mp4']

/**
 * Makes a fragmented MP4 (FRAGMENTED_MP4) that a browser plays directly and can start before it has all of it.
 * Keeps the first video and every audio track; subtitles are converted to WebVTT separately.
 * Returns the input itself when it already qualifies.
 */
export async function normaliseForDirectPlay(
  input: string,
  info: MediaInfo,
  outFile: string,
  onProgress?: (fraction: number) => void
): Promise<{ file: string; plan: NormalisePlan }> {
  const plan = planNormalisation(info)
  if (!plan.remux) {
    onProgress?.(1)
    return { file: input, plan }
  }

  const command = ffmpeg(input).outputOptions(filmOptions(info, sourcePicture(info, plan)))
  await runFfmpeg(command, outFile, `normalising ${input}`, { onSeconds: onProgress && fractionOfFilm(info.durationSeconds, onProgress) })
  onProgress?.(1)
  return { file: outFile, plan }
}

/** An output's picture: the stream or filter graph output it maps, and its codec options. */
export interface PictureOutput {
  map: string
  options: string[]
}

/** The SDR film's picture made from the source's first video stream: copied, or filtered and encoded by h264EncodeOptions. */
function sourcePicture(info: MediaInfo, plan: NormalisePlan): PictureOutput {
  const options = plan.videoCodec === 'copy' ? ['-c:v', 'copy'] : h264EncodeOptions(info.video?.hdr ?? 'sdr', SDR_LIMITS)
  return { map: '0:V:0', options }
}

/** The SDR film's output options with the given picture: every audio track, AAC where it does not play; fragmented MP4. */
export function filmOptions(info: MediaInfo, picture: PictureOutput): string[] {
  const options = ['-map', picture.map, '-map', '0:a?', '-map_metadata', '0', ...FRAGMENTED_MP4, ...picture.options]
  info.audio.forEach((track, i) => {
    options.push(...(audioPlays(track) ? [`-c:a:${i}`, 'copy'] : [`-c:a:${i}`, 'aac', `-b:a:${i}`, `${64 * Math.max(2, track.channels)}k`]))
  })
  return options
}

function audioPlays(track: MediaInfo['audio'][number]): boolean {
  return PLAYABLE_AUDIO.has(track.codec)
}

/**
 * Most lines of the SDR rendition of an HDR film (an SDR source keeps its size, as it always did): a
 * TV that shows more plays the HEVC original, and 1080 lines are a quarter of 4K's pixels to encode.
 */
const SDR_MAX_HEIGHT_OF_HDR = 1080
/** The SDR film's quality, as it always was. */
export const SDR_LIMITS = { crf: 21 }

/**
 * HDR (PQ or HLG, BT.2020) to SDR BT.709: linear light at 100 nits, Möbius's curve (linear up to 30% of
 * the peak, highlights rolled off above) with no desaturation, back to BT.709 limited range 8-bit
 * 4:2:0. Measured on colour bars graded to PQ and HLG at 100-nit white (test/tone-mapping.test.ts): Hable's
 * curve, used before, gave 54–66% of their SDR levels, Möbius 78–88%, hues kept. zscale and
 * tonemap run on the CPU; libplacebo, listed in Debian's ffmpeg 5.1, fails without a Vulkan device
 * ("Function not implemented").
 */
export const TONE_MAP =
  'zscale=t=linear:npl=100,format=gbrpf32le,zscale=p=bt709,tonemap=mobius:desat=0,zscale=t=bt709:m=bt709:r=tv,format=yuv420p'

/**
 * The filters of an SDR BT.709 picture of the first video stream: HDR tone-mapped, at most maxHeight
 * lines (HDR: at most 1080), even sizes as 4:2:0 needs.
 */
export function sdrPictureFilters(hdr: HdrFormat, maxHeight?: number): string {
  const size = sdrPictureSize(hdr, maxHeight)
  return hdr === 'sdr' ? size : `${size},${TONE_MAP}`
}

/** The scale filter of sdrPictureFilters: at most maxHeight lines (HDR: at most 1080), even sizes. */
export function sdrPictureSize(hdr: HdrFormat, maxHeight?: number): string {
  const lines = maxHeight ?? (hdr === 'sdr' ? undefined : SDR_MAX_HEIGHT_OF_HDR)
  return lines === undefined ? 'scale=trunc(iw/2)*2:trunc(ih/2)*2' : `scale=-2:'trunc(min(ih,${lines})/2)*2'`
}

/** libx264 options for an SDR BT.709 H.264 picture of the first video stream: h264Options with sdrPictureFilters. */
export function h264EncodeOptions(hdr: HdrFormat, limits: { crf: number; maxHeight?: number; maxrateKbps?: number }): string[] {
  return [...h264Options(hdr, limits), '-vf', sdrPictureFilters(hdr, limits.maxHeight)]
}

/**
 * libx264 options for a picture filtered as sdrPictureFilters makes it (the filters are the caller's):
 * the rate capped at maxrateKbps, tagged BT.709 when the source was HDR, a keyframe every 2 s.
 */
export function h264Options(hdr: HdrFormat, limits: { crf: number; maxrateKbps?: number }): string[] {
  const rate = limits.maxrateKbps === undefined ? [] : ['-maxrate', `${limits.maxrateKbps}k`, '-bufsize', `${2 * limits.maxrateKbps}k`]
  const tags = hdr === 'sdr' ? [] : ['-color_primaries', 'bt709', '-color_trc', 'bt709', '-colorspace', 'bt709', '-color_range', 'tv']
  return [
    '-c:v',
    'libx264',
    '-preset',
    'faster',
    '-crf',
    String(limits.crf),
    ...rate,
    '-profile:v',
    'high',
    '-pix_fmt',
    'yuv420p',
    ...tags,
    '-force_key_frames',
    `expr:gte(t,n_forced*${KEYFRAME_INTERVAL_SECONDS})`
  ]
}
