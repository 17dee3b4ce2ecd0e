import { stat } from 'node:fs/promises'
import path from 'node:path'
import ffmpeg from 'fluent-ffmpeg'
import type { ThumbnailSheet } from '../library/film-metadata.ts'
import { runFfmpeg } from './ffmpeg-run.ts'
import { MediaError, type MediaInfo } from './probe.ts'

const POSTER_MAX_WIDTH = 1280
/** The poster is taken this far into the film, past black openings and logos. */
const POSTER_POSITION = 0.1

/** The grid extractThumbnailSheet makes: the one the film's metadata describes. */
export type { ThumbnailSheet }

/** Writes a JPEG poster frame at ~10% of the duration, in display aspect, at most 1280 wide. */
export async function extractPoster(input: string, info: MediaInfo, outFile: string): Promise<void> {
  const filters = [
    'scale=trunc(iw*sar/2)*2:ih',
    'setsar=1', // anamorphic sources to square pixels
    `scale='min(${POSTER_MAX_WIDTH},iw)':-2`,
    'thumbnail=25' // the most representative of the next second of frames, not a fade or a cut
  ]
  const command = ffmpeg(input).inputOptions(['-ss', (info.durationSeconds * POSTER_POSITION).toFixed(3)])
  await writeOneJpeg(command, filters, 3, outFile, `extracting a poster from ${path.basename(input)}`)
}

/**
 * Writes one JPEG grid of small frames, one every intervalSeconds, for the seek bar preview.
 * Only keyframes are decoded, which keeps this fast on a Pi; a tile shows the nearest keyframe.
 */
export async function extractThumbnailSheet(
  input: string,
  info: MediaInfo,
  outFile: string,
  opts: { intervalSeconds?: number; tileWidth?: number; columns?: number } = {}
): Promise<ThumbnailSheet> {
  if (!info.video) throw new MediaError('cannot make thumbnails without a video stream')
  const { intervalSeconds = 10, tileWidth = 160, columns = 10 } = opts
  const tileHeight = 2 * Math.round((tileWidth * info.video.height) / info.video.width / 2)
  const count = Math.max(1, Math.ceil(info.durationSeconds / intervalSeconds))
  const rows = Math.ceil(count / columns)
  // Only keyframes are decoded (fast); round=up makes tile n the last keyframe at or before n × interval,
  // where round=down would take the last one before (n + 1) × interval: up to a whole interval late.
  const filters = [`fps=1/${intervalSeconds}:round=up:eof_action=pass`, `scale=${tileWidth}:${tileHeight}`, `tile=${columns}x${rows}`]
  const command = ffmpeg(input).inputOptions(['-skip_frame', 'nokey'])
  await writeOneJpeg(command, filters, 5, outFile, `making thumbnails of ${path.basename(input)}`)
  return { intervalSeconds, columns, rows, count, tileWidth, tileHeight }
}

/** Runs `command` to write the first video stream, through `filters`, as one JPEG of ffmpeg quality `quality` (2 best … 31). */
async function writeOneJpeg(
  command: ffmpeg.FfmpegCommand,
  filters: string[],
  quality: number,
  outFile: string,
  step: string
): Promise<void> {
  command.outputOptions(['-map', '0:V:0', '-vf', filters.join(','), '-frames:v', '1', '-q:v', String(quality), '-update', '1'])
  await runFfmpeg(command.outputOptions(['-f', 'image2', '-c:v', 'mjpeg']), outFile, step)
  const size = await stat(outFile).then(
    s => s.size,
    () => 0
  )
  if (size === 0) throw new MediaError(`${step}: ffmpeg wrote nothing to ${outFile}`)
}
