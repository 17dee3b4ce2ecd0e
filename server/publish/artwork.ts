import { stat } from 'node:fs/promises'
import path from 'node:path'
import ffmpeg from 'fluent-ffmpeg'
import { runFfmpeg } from './ffmpeg-run.ts'
import { MediaError, type MediaInfo } from './probe.ts'

const POSTER_MAX_WIDTH = 1280
/** The poster is taken this far into the film, past black openings and logos. */
const POSTER_POSITION = 0.1

export interface ThumbnailSheet {
  /** seconds of film between consecutive tiles; tile n shows the film at n * intervalSeconds */
  intervalSeconds: number
  columns: number
  rows: number
  count: number
  tileWidth: number
  tileHeight: number
}

/** Writes a JPEG poster frame at ~10% of the duration, in display aspect, at most 1280 wide. */
export async function extractPoster(input: string, info: MediaInfo, outFile: string): Promise<void> {
  const filters = [
    'scale=trunc(iw*sar/2)*2:ih',
    'setsar=1', // anamorphic sources to square pixels
    `scale='min(${POSTER_MAX_WIDTH},iw)':-2`,
    'thumbnail=25' // the most representative of the next second of frames, not a fade or a cut
  ]
  const command = ffmpeg(input)
    .inputOptions(['-ss', (info.durationSeconds * POSTER_POSITION).toFixed(3)])
    .outputOptions([
      '-map',
      '0:V:0',
      '-vf',
      filters.join(','),
      '-frames:v',
      '1',
      '-q:v',
      '3',
      '-update',
      '1',
      '-f',
      'image2',
      '-c:v',
      'mjpeg'
    ])
  await runFfmpeg(command, outFile, `extracting a poster from ${path.basename(input)}`)
  await expectNonEmpty(outFile, 'poster')
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
  const filters = [`fps=1/${intervalSeconds}:round=down:eof_action=pass`, `scale=${tileWidth}:${tileHeight}`, `tile=${columns}x${rows}`]
  const command = ffmpeg(input)
    .inputOptions(['-skip_frame', 'nokey'])
    .outputOptions([
      '-map',
      '0:V:0',
      '-vf',
      filters.join(','),
      '-frames:v',
      '1',
      '-q:v',
      '5',
      '-update',
      '1',
      '-f',
      'image2',
      '-c:v',
      'mjpeg'
    ])
  await runFfmpeg(command, outFile, `making thumbnails of ${path.basename(input)}`)
  await expectNonEmpty(outFile, 'thumbnail sheet')
  return { intervalSeconds, columns, rows, count, tileWidth, tileHeight }
}

async function expectNonEmpty(file: string, what: string): Promise<void> {
  const size = await stat(file).then(
    s => s.size,
    () => 0
  )
  if (size === 0) throw new MediaError(`ffmpeg wrote no ${what} (${file})`)
}
