// A VP9/Opus WebM test pattern made with ffmpeg: a film an engine built without H.264 (the npm build of
// Chromium 68) still decodes. Publishing always makes H.264, so such a film is registered by hand.
import { execFile } from 'node:child_process'
import { mkdir, readFile } from 'node:fs/promises'
import path from 'node:path'
import { promisify } from 'node:util'

const execFileAsync = promisify(execFile)

/** Encodes the clip into `file` (realtime VP9: a few seconds) and returns its bytes. */
export async function makeWebmClip(file: string, opts: { seconds: number; width: number; height: number }): Promise<Buffer> {
  const { seconds, width, height } = opts
  await mkdir(path.dirname(file), { recursive: true })
  await execFileAsync('ffmpeg', [
    ...['-hide_banner', '-loglevel', 'error', '-y'],
    ...['-f', 'lavfi', '-i', `testsrc2=size=${width}x${height}:rate=25:duration=${seconds}`],
    ...['-f', 'lavfi', '-i', `sine=frequency=440:duration=${seconds}`],
    ...['-c:v', 'libvpx-vp9', '-deadline', 'realtime', '-cpu-used', '8', '-b:v', `${Math.round((width * height) / 300)}k`, '-g', '50'],
    ...['-c:a', 'libopus', file]
  ])
  return await readFile(file)
}
