// The renditions a publish makes besides the SDR film (normalise.ts), so that each TV gets the best it
// can show without a box ever transcoding: the source's own HEVC video, HDR kept, for TVs that decode
// it; a small H.264 one for weak links, where it at least halves the source's bits a second (made here,
// or with the SDR film in one ffmpeg run where that film is encoded too: film-with-low.ts). Both are
// fragmented MP4 (moof fragments a keyframe apart, a sidx at the front), as the SDR film is when publish
// remuxes it, so that HLS playlists (server/streaming/hls-playlists.ts) name their fragments as byte
// ranges of the sealed file. And for picture subtitles (PGS, DVD, DVB), which no TV engine draws from
// an MP4: the SDR film with one of them burned into the picture, a version each.
import { open } from 'node:fs/promises'
import path from 'node:path'
import ffmpeg from 'fluent-ffmpeg'
import { MAX_SUBTITLED_RENDITIONS, type BurnedInSubtitle, type RenditionMetadata } from '../library/film-metadata.ts'
import { readFragmentIndex } from '../lib/mp4-fragments.ts'
import { audioCodecsString, videoCodecsString } from './codecs-string.ts'
import { fractionOfFilm, runFfmpeg } from './ffmpeg-run.ts'
import { FRAGMENTED_MP4, h264EncodeOptions, h264Options, SDR_LIMITS, sdrPictureFilters, type PictureOutput } from './normalise.ts'
import { MediaError, probeMedia, type MediaInfo } from './probe.ts'
import { imageSubtitleStreams } from './subtitles.ts'

export type RenditionRole = 'original' | 'low' | 'subtitled'

export interface RenditionFile {
  role: RenditionMetadata['role']
  /** The plaintext MP4 in the publish's work folder. */
  file: string
  /** A `subtitled` rendition's subtitle stream, as the metadata names it. */
  burnedIn?: BurnedInSubtitle
}

type Plan = { role: RenditionRole; name: string; options: string[]; burnedIn?: BurnedInSubtitle }
type SubtitleStream = MediaInfo['subtitles'][number]

type AudioTrack = MediaInfo['audio'][number]

/** HEVC profiles 4K TVs decode: 8-bit and 10-bit 4:2:0. */
const PLAYABLE_HEVC_PROFILES = new Set(['Main', 'Main 10'])
/** Audio TVs decode as it is in MP4; E-AC-3 and AC-3 not in every browser engine, so each gets an AAC stereo companion. */
const TV_AUDIO = new Set(['aac', 'ac3', 'eac3'])
const STEREO_AAC_KBPS = 128
/**
 * The weak-link rendition: at most 480 lines, the video rate capped at 1.2 Mbit/s, 96 kbit/s AAC
 * stereo. About 1.3 Mbit/s with one language: it plays on a link of 2 Mbit/s (a 2.4 GHz link through
 * walls), where the SDR film at CRF 21 (4–8 Mbit/s at 1080p) stalls; close to the 432p/1.1 Mbit/s rung
 * of Apple's HLS authoring ladder.
 */
export const LOW = { maxHeight: 480, maxrateKbps: 1200, crf: 23, audioKbps: 96 }
/** A weak-link rendition is stored only where it at least halves the bits a second of the source. */
const LOW_WORTH_SOURCE_BITS_PER_SECOND = 2 * LOW.maxrateKbps * 1000
/** Picture subtitle codecs ffmpeg decodes to bitmaps it can lay over the picture (not teletext: it needs libzvbi). */
const BURNABLE_SUBTITLES = new Set(['hdmv_pgs_subtitle', 'dvd_subtitle', 'dvb_subtitle', 'xsub'])
/**
 * Makes the renditions the source calls for, in the work folder, but those `made` already (the low one
 * where film-with-low.ts made it); progress covers the ones made here. Returns them all in one order:
 * original, low, subtitled.
 */
export async function makeRenditions(
  input: string,
  info: MediaInfo,
  workDir: string,
  onProgress?: (fraction: number) => void,
  made: RenditionFile[] = []
): Promise<RenditionFile[]> {
  const plans: Plan[] = []
  if (keepsOriginalVideo(info)) plans.push({ role: 'original', name: 'original', options: originalOptions(info) })
  if (wantsLowRendition(info)) plans.push({ role: 'low', name: 'low', options: lowOptions(info) })
  plans.push(...subtitledPlans(info))
  const toMake = plans.filter(plan => !made.some(rendition => rendition.role === plan.role))
  const renditions = [...made]
  for (const [n, plan] of toMake.entries()) {
    const file = renditionPath(workDir, plan.name)
    const command = ffmpeg(input).outputOptions([...plan.options, ...FRAGMENTED_MP4])
    await runFfmpeg(command, file, `making the ${plan.name} rendition of ${path.basename(input)}`, {
      onSeconds: fractionOfFilm(info.durationSeconds, f => onProgress?.((n + f) / toMake.length))
    })
    renditions.push({ role: plan.role, file, ...(plan.burnedIn !== undefined ? { burnedIn: plan.burnedIn } : {}) })
  }
  onProgress?.(1)
  return renditions.sort((a, b) => ROLE_ORDER.indexOf(a.role) - ROLE_ORDER.indexOf(b.role))
}

/** The order of the renditions in the film's metadata, after the SDR film (a stable sort keeps the subtitled ones' own). */
const ROLE_ORDER: RenditionMetadata['role'][] = ['original', 'low', 'subtitled']

/** Where a rendition's plaintext MP4 is made in the publish's work folder. */
export function renditionPath(workDir: string, name: string): string {
  return path.join(workDir, `rendition-${name}.mp4`)
}

/** The source calls for a weak-link rendition: it has more bits a second than twice the low one's cap. */
export function wantsLowRendition(info: MediaInfo): boolean {
  return (info.sizeBytes * 8) / info.durationSeconds > LOW_WORTH_SOURCE_BITS_PER_SECOND
}

/** The source's video plays on TVs as it is: HEVC 4:2:0 8- or 10-bit, SDR or HDR. */
function keepsOriginalVideo(info: MediaInfo): boolean {
  return info.video?.codec === 'hevc' && PLAYABLE_HEVC_PROFILES.has(info.video.profile ?? '')
}

/** The video stream copied (tagged hvc1: Apple's and most TVs' engines refuse hev1), audio as audioOptions gives. */
function originalOptions(info: MediaInfo): string[] {
  return ['-map', '0:V:0', '-c:v', 'copy', '-tag:v', 'hvc1', ...audioOptions(info.audio, { surround: true })]
}

/**
 * The low rendition's output options (fragmented MP4 aside) with the given picture; by default the
 * source's first video stream, filtered and encoded by h264EncodeOptions.
 */
export function lowOptions(info: MediaInfo, picture?: PictureOutput): string[] {
  const { map, options } = picture ?? { map: '0:V:0', options: h264EncodeOptions(info.video?.hdr ?? 'sdr', LOW) }
  return ['-map', map, ...options, ...audioOptions(info.audio, { surround: false, stereoKbps: LOW.audioKbps })]
}

/**
 * A `subtitled` rendition for each picture subtitle stream ffmpeg draws, forced ones first, then the
 * default, then in the source's order; at most MAX_SUBTITLED_RENDITIONS. `imageSubtitle` is the
 * stream's place among all the source's picture subtitles, as the metadata's imageSubtitles lists them.
 */
function subtitledPlans(info: MediaInfo): Plan[] {
  if (info.video === undefined) return []
  const pictures = imageSubtitleStreams(info)
  const rank = (s: SubtitleStream) => (s.forced ? 0 : s.default ? 1 : 2)
  const burnable = pictures.filter(s => BURNABLE_SUBTITLES.has(s.codec)).sort((a, b) => rank(a) - rank(b) || a.index - b.index)
  return burnable.slice(0, MAX_SUBTITLED_RENDITIONS).map(stream => ({
    role: 'subtitled',
    name: `subtitled-${stream.index}`,
    options: [...subtitledVideoOptions(info, stream), ...audioOptions(info.audio, { surround: false })],
    burnedIn: {
      imageSubtitle: pictures.indexOf(stream),
      language: stream.language ?? 'und',
      ...(stream.title !== undefined ? { label: stream.title } : {})
    }
  }))
}

/**
 * The SDR film's picture (its quality and size, HDR tone-mapped: normalise.ts) with the subtitle stream
 * laid over it, the subtitle's canvas scaled to the picture's size first (a no-op where they match; a
 * PGS canvas of 1080 lines over a 720-line picture otherwise lands off the bottom). Laid over before
 * the tone map, so on an HDR film the subtitle's white is the top of the HDR range, mapped to SDR white.
 */
function subtitledVideoOptions(info: MediaInfo, stream: SubtitleStream): string[] {
  const { hdr, width, height } = info.video as NonNullable<MediaInfo['video']> // subtitledPlans: there is one
  const graph = `[0:${stream.index}]scale=${width}:${height}[subtitle];[0:V:0][subtitle]overlay=eof_action=pass,${sdrPictureFilters(hdr)}[picture]`
  return ['-filter_complex', graph, '-map', '[picture]', ...h264Options(hdr, SDR_LIMITS)]
}

/**
 * Every track, first as AAC stereo (copied when it is already that, else downmixed), which every
 * engine decodes, so the first, default track plays anywhere; then, with `surround`, the originals
 * TVs decode that are more than that (AC-3, E-AC-3, multichannel AAC), copied. Each output track keeps
 * its source's language tag (ffmpeg copies a mapped stream's metadata).
 */
function audioOptions(tracks: AudioTrack[], opts: { surround: boolean; stereoKbps?: number }): string[] {
  const isStereoAac = (t: AudioTrack) => t.codec === 'aac' && t.channels <= 2
  const kbps = opts.stereoKbps ?? STEREO_AAC_KBPS
  const stereo = tracks.map(t => ({ track: t, copy: isStereoAac(t) && opts.stereoKbps === undefined }))
  const surround = opts.surround ? tracks.filter(t => TV_AUDIO.has(t.codec) && !isStereoAac(t)).map(t => ({ track: t, copy: true })) : []
  return [...stereo, ...surround].flatMap(({ track, copy }, i) => [
    '-map',
    `0:${track.index}`,
    ...(copy ? [`-c:a:${i}`, 'copy'] : [`-c:a:${i}`, 'aac', `-b:a:${i}`, `${kbps}k`, `-ac:a:${i}`, '2']),
    `-disposition:a:${i}`,
    i === 0 ? 'default' : '0'
  ])
}

/** The MP4 has a fragment index at its front (the SDR film is not when publish used the source as it was). */
async function isFragmented(file: string, size: number): Promise<boolean> {
  const handle = await open(file)
  try {
    const read = async (start: number, end: number) => (await handle.read(Buffer.alloc(end - start + 1), 0, end - start + 1, start)).buffer
    return (await readFragmentIndex(read, size)) !== null
  } finally {
    await handle.close()
  }
}

/**
 * A rendition as the film's metadata lists it, from what its MP4 carries (ffprobe, and the video's
 * decoder configuration box for its codecs string) and where it was sealed to.
 */
export async function describeRendition(
  rendition: RenditionFile,
  sealed: { cid: { toString(): string }; sealedBytes: number; plaintextBytes: number },
  durationSeconds: number
): Promise<RenditionMetadata> {
  const info = await probeMedia(rendition.file)
  if (info.video === undefined) throw new MediaError(`the ${rendition.role} rendition has no video`)
  const video = { codecs: await videoCodecsString(rendition.file), width: info.video.width, height: info.video.height, hdr: info.video.hdr }
  const audio = info.audio.map(track => ({
    codecs: audioCodecsString(track),
    channels: track.channels,
    ...(track.language !== undefined ? { language: track.language } : {})
  }))
  return {
    role: rendition.role,
    ...(rendition.burnedIn !== undefined ? { burnedIn: rendition.burnedIn } : {}),
    cid: sealed.cid.toString(),
    sealedBytes: sealed.sealedBytes,
    plaintextBytes: sealed.plaintextBytes,
    mimeType: 'video/mp4',
    fragmented: await isFragmented(rendition.file, sealed.plaintextBytes),
    codecs: [video.codecs, ...audio.map(a => a.codecs)].join(','),
    bitrate: Math.round((sealed.plaintextBytes * 8) / durationSeconds),
    video,
    audio
  }
}
