import { stat } from 'node:fs/promises'
import path from 'node:path'
import ffmpeg from 'fluent-ffmpeg'
import {
  MAX_SHEET_COLUMNS,
  MAX_SHEET_ROWS,
  MAX_THUMBNAIL_SHEETS,
  sheetCount,
  sheetRows,
  type ThumbnailGrid
} from '../library/film-metadata.ts'
import { runFfmpeg } from './ffmpeg-run.ts'
import { MediaError, type MediaInfo } from './probe.ts'

const POSTER_MAX_WIDTH = 1280
/** The poster is taken this far into the film, past black openings and logos. */
const POSTER_POSITION = 0.1

/** The sheets extractThumbnailSheets writes, in order, and their grid (the one the film's metadata describes). */
export interface ThumbnailSheetFiles {
  grid: ThumbnailGrid
  files: string[]
}

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
 * Writes the seek bar's preview frames, one every intervalSeconds, as JPEG sheets of at most
 * columns × rows tiles (sheet-0.jpg, sheet-1.jpg … in outDir), in one pass over the film: a TV then
 * decodes only the sheet under the seek position. The interval widens for a film longer than
 * MAX_THUMBNAIL_SHEETS full sheets. Only keyframes are decoded, which keeps this fast on a Pi; a tile
 * shows the nearest keyframe.
 */
export async function extractThumbnailSheets(
  input: string,
  info: MediaInfo,
  outDir: string,
  opts: { intervalSeconds?: number; tileWidth?: number; columns?: number; rows?: number } = {}
): Promise<ThumbnailSheetFiles> {
  if (!info.video) throw new MediaError('cannot make thumbnails without a video stream')
  const { tileWidth = 160, columns = MAX_SHEET_COLUMNS, rows = MAX_SHEET_ROWS } = opts
  const perSheet = columns * rows
  const intervalSeconds = Math.max(opts.intervalSeconds ?? 10, Math.ceil(info.durationSeconds / (perSheet * MAX_THUMBNAIL_SHEETS)))
  const tileHeight = 2 * Math.round((tileWidth * info.video.height) / info.video.width / 2)
  const count = Math.max(1, Math.ceil(info.durationSeconds / intervalSeconds))
  const grid = { intervalSeconds, columns, rows, count, tileWidth, tileHeight }
  const sheets = Array.from({ length: sheetCount(grid) }, (_, n) => n)
  // Only keyframes are decoded (fast); round=up makes tile n the last keyframe at or before n × interval,
  // where round=down would take the last one before (n + 1) × interval: up to a whole interval late.
  // The last keyframe is held on (tpad; the trims end the run at `count`), so the tiles past it show it,
  // as the film does: else a last sheet past the last keyframe would get no frame, and not be written.
  // The tiles are split into one branch a sheet, each keeping its own run of frames. start_time=0 counts
  // the tiles from 0 s, the first frame standing in for a video that starts later (after AAC priming,
  // at 0.02 s): else fps counts from the first frame, rounds its time up to the next tile, and a film
  // shorter than an interval gets no frame at all.
  const hold = Math.ceil(info.durationSeconds)
  const frames = `tpad=stop_mode=clone:stop_duration=${hold},fps=1/${intervalSeconds}:start_time=0:round=up:eof_action=pass`
  const graph = [
    `[0:V:0]${frames},scale=${tileWidth}:${tileHeight},split=${sheets.length}${sheets.map(n => `[s${n}]`).join('')}`,
    ...sheets.map(n => {
      const end = Math.min((n + 1) * perSheet, count)
      return `[s${n}]trim=start_frame=${n * perSheet}:end_frame=${end},tile=${columns}x${sheetRows(grid, n)}[o${n}]`
    })
  ].join(';')
  const files = sheets.map(n => path.join(outDir, `sheet-${n}.jpg`))
  const command = ffmpeg(input).inputOptions(['-skip_frame', 'nokey']).complexFilter(graph)
  for (const [n, file] of files.entries()) {
    command.output(file).outputOptions(['-map', `[o${n}]`, '-frames:v', '1', '-q:v', '5', '-update', '1', '-f', 'image2', '-c:v', 'mjpeg'])
  }
  const step = `making thumbnails of ${path.basename(input)}`
  await runFfmpeg(command, files, step)
  for (const file of files) await mustHaveWritten(file, step)
  return { grid, files }
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
  await mustHaveWritten(outFile, step)
}

/** ffmpeg can end well having written nothing (a filter that never gave a frame): that is a failure. */
async function mustHaveWritten(file: string, step: string): Promise<void> {
  const size = await stat(file).then(
    s => s.size,
    () => 0
  )
  if (size === 0) throw new MediaError(`${step}: ffmpeg wrote nothing to ${file}`)
}
