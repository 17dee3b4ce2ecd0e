import { open, stat } from 'node:fs/promises'
import path from 'node:path'
import ffmpeg from 'fluent-ffmpeg'

export interface MediaInfo {
  durationSeconds: number
  /** ffprobe's format_name, e.g. "mov,mp4,m4a,3gp,3g2,mj2" or "matroska,webm" */
  container: string
  sizeBytes: number
  video?: {
    codec: string
    profile?: string
    width: number
    height: number
    pixelFormat?: string
    frameRate?: number
    /** ffprobe's colour primaries, transfer and matrix names (e.g. bt2020, smpte2084, bt2020nc), where tagged */
    colour: { primaries?: string; transfer?: string; matrix?: string }
    hdr: HdrFormat
  }
  audio: { index: number; codec: string; profile?: string; channels: number; channelLayout?: string; language?: string }[]
  subtitles: { index: number; codec: string; language?: string; title?: string; forced: boolean; default: boolean }[]
  /** The source's chapters, in order (ffprobe -show_chapters); empty when it has none. */
  chapters: { startSeconds: number; endSeconds: number; title?: string }[]
  /** MP4/MOV only: the moov atom (the index) comes before mdat, so playback can start before the whole file arrives */
  faststart: boolean
}

/** How a video's pictures are coded for light: PQ (HDR10 and its kin), HLG, or standard dynamic range. */
export type HdrFormat = 'pq' | 'hlg' | 'sdr'

/** The HDR format of a transfer characteristic as ffprobe names it; untagged video is SDR. */
export function hdrFormat(transfer: string | undefined): HdrFormat {
  return transfer === 'smpte2084' ? 'pq' : transfer === 'arib-std-b67' ? 'hlg' : 'sdr'
}

export class MediaError extends Error {
  override name = 'MediaError'
}

/** Formats ffprobe detects in files that are not films (text shown as ANSI art, still images). */
const NOT_VIDEO_FORMATS = /^(tty|image2|.*_pipe)$/

/** The input file's size and modification time; a MediaError naming it when it is missing or not a file. */
export async function statInputFile(file: string): Promise<{ size: number; mtimeMs: number }> {
  try {
    const stats = await stat(file)
    if (!stats.isFile()) throw new MediaError(`${file} is not a regular file`)
    return { size: stats.size, mtimeMs: stats.mtimeMs }
  } catch (err) {
    if (err instanceof MediaError) throw err
    throw new MediaError(
      `cannot read ${file}: ${(err as NodeJS.ErrnoException).code === 'ENOENT' ? 'no such file' : (err as Error).message}`
    )
  }
}

export async function probeMedia(file: string): Promise<MediaInfo> {
  const name = path.basename(file)
  const { size: sizeBytes } = await statInputFile(file)
  if (sizeBytes === 0) throw new MediaError(`${name} is empty, not a video`)

  const data = await runFfprobe(file)
  const format = data.format
  const container = String(format.format_name ?? '')
  const streams = data.streams.filter(s => s.disposition?.attached_pic !== 1)
  const videoStream = streams.find(s => s.codec_type === 'video')
  if (!videoStream || NOT_VIDEO_FORMATS.test(container)) {
    throw new MediaError(`${name} is not a video: ffprobe found ${describeStreams(container, data.streams)}`)
  }
  const durationSeconds = firstPositiveNumber(format.duration, videoStream.duration)
  if (durationSeconds === undefined) throw new MediaError(`${name} has no duration, so it is not a playable video`)

  return {
    durationSeconds,
    container,
    sizeBytes,
    video: {
      codec: String(videoStream.codec_name),
      profile: optionalString(videoStream.profile),
      width: Number(videoStream.width),
      height: Number(videoStream.height),
      pixelFormat: optionalString(videoStream.pix_fmt),
      frameRate: parseFrameRate(videoStream.avg_frame_rate) ?? parseFrameRate(videoStream.r_frame_rate),
      colour: {
        primaries: optionalString(videoStream.color_primaries),
        transfer: optionalString(videoStream.color_transfer),
        matrix: optionalString(videoStream.color_space)
      },
      hdr: hdrFormat(optionalString(videoStream.color_transfer))
    },
    audio: streams
      .filter(s => s.codec_type === 'audio')
      .map(s => ({
        index: s.index,
        codec: String(s.codec_name),
        profile: optionalString(s.profile),
        channels: Number(s.channels ?? 0),
        channelLayout: optionalString(s.channel_layout),
        language: language(s.tags)
      })),
    subtitles: streams.filter(s => s.codec_type === 'subtitle').map(subtitleStream),
    chapters: chaptersOf(data.chapters, durationSeconds),
    faststart: /mp4|mov/.test(container) ? await moovBeforeMdat(file) : false
  }
}

function runFfprobe(file: string): Promise<ffmpeg.FfprobeData> {
  return new Promise((resolve, reject) => {
    ffmpeg.ffprobe(file, ['-show_chapters'], (err: Error | null, data) => {
      if (!err) return resolve(data)
      if (/Cannot find ffprobe|ENOENT/.test(err.message)) {
        return reject(new MediaError('ffprobe was not found on the PATH: install ffmpeg (Debian: apt-get install ffmpeg)'))
      }
      const reason = err.message.trim().split('\n').at(-1)?.replace(`${file}: `, '') ?? err.message
      reject(new MediaError(`${path.basename(file)} is not a video ffprobe can read (${reason})`))
    })
  })
}

function subtitleStream(s: ffmpeg.FfprobeStream): MediaInfo['subtitles'][number] {
  return {
    index: s.index,
    codec: String(s.codec_name),
    language: language(s.tags),
    title: optionalString(s.tags?.title),
    forced: s.disposition?.forced === 1,
    default: s.disposition?.default === 1
  }
}

/** ffprobe's chapters (title in "TAG:title") within the film, in time order; empty ones left out. */
function chaptersOf(chapters: Array<Record<string, unknown>>, durationSeconds: number): MediaInfo['chapters'] {
  return chapters
    .map(chapter => ({
      startSeconds: Math.max(0, Number(chapter.start_time)),
      endSeconds: Math.min(durationSeconds, Number(chapter.end_time)),
      title: optionalString(chapter['TAG:title'])
    }))
    .filter(chapter => chapter.endSeconds > chapter.startSeconds)
    .sort((a, b) => a.startSeconds - b.startSeconds)
}

function describeStreams(container: string, streams: ffmpeg.FfprobeStream[]): string {
  const kinds = streams.map(s => `${s.codec_type} ${s.codec_name}`)
  return `format "${container}" with ${kinds.length ? kinds.join(', ') : 'no streams'} and no video stream`
}

function firstPositiveNumber(...values: unknown[]): number | undefined {
  for (const value of values) {
    const n = Number(value)
    if (Number.isFinite(n) && n > 0) return n
  }
  return undefined
}

function optionalString(value: unknown): string | undefined {
  return value === undefined || value === null || value === '' || value === 'unknown' ? undefined : String(value)
}

function language(tags: Record<string, unknown> | undefined): string | undefined {
  const lang = optionalString(tags?.language)
  return lang === 'und' ? undefined : lang
}

function parseFrameRate(value: unknown): number | undefined {
  const [num, den] = String(value).split('/').map(Number)
  const rate = den === undefined ? num : num / den
  return Number.isFinite(rate) && rate > 0 ? rate : undefined
}

/** Walks the top-level MP4 boxes (size + type headers) until it meets moov or mdat. */
async function moovBeforeMdat(file: string): Promise<boolean> {
  const handle = await open(file, 'r')
  try {
    const { size } = await handle.stat()
    const header = Buffer.alloc(16)
    let offset = 0
    while (offset + 8 <= size) {
      const { bytesRead } = await handle.read(header, 0, 16, offset)
      if (bytesRead < 8) return false
      const type = header.toString('latin1', 4, 8)
      if (type === 'moov') return true
      if (type === 'mdat') return false
      let boxSize = header.readUInt32BE(0)
      if (boxSize === 1 && bytesRead === 16) boxSize = Number(header.readBigUInt64BE(8))
      if (boxSize < 8) return false // 0 = box runs to the end of the file; anything else is malformed
      offset += boxSize
    }
    return false
  } finally {
    await handle.close()
  }
}
