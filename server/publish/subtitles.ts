import { readFile, writeFile } from 'node:fs/promises'
import path from 'node:path'
import ffmpeg from 'fluent-ffmpeg'
import { runFfmpeg } from './ffmpeg-run.ts'
import { MediaError, type MediaInfo } from './probe.ts'
import { assToWebVtt } from './ass-subtitles.ts'

/** Subtitle codecs that are pictures, not text: WebVTT would need OCR. */
const BITMAP_SUBTITLES = new Set(['hdmv_pgs_subtitle', 'dvd_subtitle', 'dvb_subtitle', 'xsub', 'dvb_teletext'])

/** ASS and SSA streams: converted by ass-subtitles.ts, which keeps where each line stands. */
const ASS_CODECS = new Set(['ass', 'ssa'])

/**
 * Converts an SRT/ASS/SSA file to WebVTT (ASS and SSA keeping their positions, see ass-subtitles.ts).
 * Files that are not valid UTF-8 are read as Windows-1252, the usual legacy SRT encoding.
 */
export async function subtitleFileToWebVtt(srtOrAssFile: string, outFile: string): Promise<void> {
  let bytes: Buffer
  try {
    bytes = await readFile(srtOrAssFile)
  } catch (err) {
    throw new MediaError(`cannot read subtitle file ${srtOrAssFile}: ${(err as Error).message}`)
  }
  const text = new TextDecoder(isUtf8(bytes) ? 'utf-8' : 'windows-1252').decode(bytes)
  if (/^\s*\[Script Info\]/i.test(text)) return await writeAssAsWebVtt(text, outFile)
  const command = ffmpeg(srtOrAssFile)
  if (!isUtf8(bytes)) command.inputOptions(['-sub_charenc', 'CP1252'])
  await toWebVtt(command.outputOptions(['-map', '0:s:0']), outFile, `converting ${path.basename(srtOrAssFile)} to WebVTT`)
}

/** True for subtitle codecs that are text (mov_text, subrip, ass…), which WebVTT can carry. */
export function isTextSubtitle(codec: string): boolean {
  return !BITMAP_SUBTITLES.has(codec)
}

/** The source's picture subtitle streams (PGS, DVD, DVB…), in its order: the metadata's imageSubtitles. */
export function imageSubtitleStreams(info: MediaInfo): MediaInfo['subtitles'] {
  return info.subtitles.filter(s => !isTextSubtitle(s.codec))
}

/** Converts one embedded text subtitle stream of `input` (probed as `info`) to WebVTT; streamIndex is ffprobe's absolute stream index. */
export async function extractSubtitleStreamToWebVtt(input: string, info: MediaInfo, streamIndex: number, outFile: string): Promise<void> {
  const stream = info.subtitles.find(s => s.index === streamIndex)
  const name = path.basename(input)
  if (!stream) {
    const available = info.subtitles.map(s => `${s.index} (${s.codec})`).join(', ') || 'none'
    throw new MediaError(`stream ${streamIndex} of ${name} is not a subtitle stream; subtitle streams: ${available}`)
  }
  if (!isTextSubtitle(stream.codec)) {
    throw new MediaError(
      `subtitle stream ${streamIndex} of ${name} is ${stream.codec}, a bitmap format that cannot be converted to WebVTT text`
    )
  }
  const command = ffmpeg(input).outputOptions(['-map', `0:${streamIndex}`])
  if (ASS_CODECS.has(stream.codec)) {
    // the script as it is (styles and override tags), then converted here
    const assFile = `${outFile}.ass`
    await runFfmpeg(command.outputOptions(['-c:s', 'ass', '-f', 'ass']), assFile, `extracting ASS stream ${streamIndex} of ${name}`)
    return await writeAssAsWebVtt(await readFile(assFile, 'utf8'), outFile)
  }
  await toWebVtt(command, outFile, `extracting subtitle stream ${streamIndex} of ${name} to WebVTT`)
}

async function toWebVtt(command: ffmpeg.FfmpegCommand, outFile: string, step: string): Promise<void> {
  await runFfmpeg(command.outputOptions(['-c:s', 'webvtt', '-f', 'webvtt']), outFile, step)
  const text = (await readFile(outFile, 'utf8')).replace(/^\uFEFF/, '')
  if (!text.startsWith('WEBVTT'))
    throw new MediaError(`${step} produced no WebVTT (output starts with ${JSON.stringify(text.slice(0, 20))})`)
}

async function writeAssAsWebVtt(script: string, outFile: string): Promise<void> {
  await writeFile(outFile, assToWebVtt(script))
}

function isUtf8(bytes: Buffer): boolean {
  try {
    new TextDecoder('utf-8', { fatal: true }).decode(bytes)
    return true
  } catch {
    return false
  }
}
