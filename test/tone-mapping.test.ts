// The SDR rendition of an HDR film must look like the film, not a darker copy of it. The sources are a
// known SDR picture (ffmpeg's colour bars) converted exactly to HDR10 (PQ) and to HLG with 100-nit white,
// so the right SDR answer is that picture again: publish's normalisation (the real ffmpeg chain) must
// give back its brightness and its colours. Hable's curve, used before, gave 54–66% of the bars' levels.
// The same for the SDR film and the low rendition made together in one ffmpeg run (film-with-low.ts).
import t from 'tap'
import { execFile } from 'node:child_process'
import { mkdir } from 'node:fs/promises'
import path from 'node:path'
import { promisify } from 'node:util'
import { encodeFilmWithLow } from '../server/publish/film-with-low.ts'
import { normaliseForDirectPlay } from '../server/publish/normalise.ts'
import { probeMedia } from '../server/publish/probe.ts'
import { hdrSource } from './helpers/film-sources.ts'
import { testDir, type Test } from './helpers/in-process.ts'

const run = promisify(execFile)
const work = testDir(t, 'tone-mapping')
await mkdir(work, { recursive: true })

const BARS = 'testsrc2=size=640x360:rate=25:duration=1'
/** The middle of each of testsrc2's colour bars at 640×360, on a row below its moving diagonal. */
const BARS_ROW = 250
const BAR_MIDDLES = { red: 53, green: 160, yellow: 267, blue: 373, magenta: 480, cyan: 587 }

/** The bars as 10-bit HEVC in BT.2020 with the given transfer, SDR white at 100 nits (what a grader would do). */
async function hdrBars(transfer: 'smpte2084' | 'arib-std-b67'): Promise<string> {
  const out = path.join(work, `${transfer}.mkv`)
  const toHdr = `format=yuv444p,zscale=pin=709:tin=709:min=709:rin=tv:p=2020:t=${transfer}:m=2020_ncl:r=tv:npl=100,format=yuv420p10le`
  await run('ffmpeg', [
    ...['-v', 'error', '-y', '-f', 'lavfi', '-i', BARS, '-vf', toHdr, '-c:v', 'libx265', '-preset', 'ultrafast'],
    ...['-x265-params', `log-level=error:colorprim=bt2020:colormatrix=bt2020nc:transfer=${transfer}`],
    ...['-color_primaries', 'bt2020', '-color_trc', transfer, '-colorspace', 'bt2020nc', out]
  ])
  return out
}

/** The first frame of an input (ffmpeg's input options) as 8-bit RGB rows. */
async function firstFrameRgb(...input: string[]): Promise<Buffer> {
  const { stdout } = await run('ffmpeg', ['-v', 'error', ...input, '-frames:v', '1', '-f', 'rawvideo', '-pix_fmt', 'rgb24', '-'], {
    encoding: 'buffer',
    maxBuffer: 16 * 1024 * 1024
  })
  return stdout
}

/** The MD5 of a file's decoded video. */
async function pictureMd5(file: string): Promise<string> {
  return (await run('ffmpeg', ['-v', 'error', '-i', file, '-map', '0:v', '-f', 'md5', '-'])).stdout.trim()
}

const pixel = (frame: Buffer, x: number, y: number): number[] => [...frame.subarray((y * 640 + x) * 3, (y * 640 + x) * 3 + 3)]

const reference = await firstFrameRgb('-f', 'lavfi', '-i', BARS)

/** A video's first frame shows the bars as the SDR picture has them: each bar's hue and brightness. */
async function checkBars(t: Test, file: string, name: string): Promise<void> {
  const frame = await firstFrameRgb('-i', file)
  for (const [bar, x] of Object.entries(BAR_MIDDLES)) {
    const want = pixel(reference, x, BARS_ROW)
    const got = pixel(frame, x, BARS_ROW)
    // the bar's own channels stay strong and the others low: the hue survives
    const strong = [0, 1, 2].filter(c => (want[c] as number) > 200)
    const weakest = Math.max(...[0, 1, 2].filter(c => (want[c] as number) < 10).map(c => got[c] as number))
    const strongest = Math.min(...strong.map(c => got[c] as number))
    t.ok(strongest - weakest >= 120, `${name}: ${bar} stays ${bar}: ${got.join(',')} for ${want.join(',')}`)
    // its own channels near the SDR picture's (Hable's curve gave 54–66% of them)
    const ratio = strong.reduce((sum, c) => sum + (got[c] as number) / (want[c] as number), 0) / strong.length
    t.ok(ratio >= 0.72 && ratio <= 1.05, `${name}: ${bar} keeps its brightness: ${(ratio * 100).toFixed(0)}% of the SDR bar's`)
  }
}

for (const transfer of ['smpte2084', 'arib-std-b67'] as const) {
  t.test(`${transfer}: the SDR film shows the bars as they were before HDR`, async t => {
    const source = await hdrBars(transfer)
    const info = await probeMedia(source)
    t.equal(info.video?.hdr, transfer === 'smpte2084' ? 'pq' : 'hlg', 'the source is HDR')
    const { file } = await normaliseForDirectPlay(source, info, path.join(work, `${transfer}-sdr.mp4`))
    await checkBars(t, file, 'the SDR film')
    const together = { film: path.join(work, `${transfer}-film.mp4`), low: path.join(work, `${transfer}-low.mp4`) }
    await encodeFilmWithLow(source, info, together)
    t.equal(await pictureMd5(together.film), await pictureMd5(file), 'the film made with the low rendition has the same pictures')
    await checkBars(t, together.film, 'the SDR film made with the low rendition')
    await checkBars(t, together.low, 'the low rendition made with the SDR film')
  })
}

t.test('in one run from a 1920×1200 PQ source: the SDR film at 1080 lines, the low rendition at 480, BT.709', async t => {
  const source = await hdrSource(path.join(work, 'large'), 'pq', { size: '1920x1200', seconds: 1 })
  const out = { film: path.join(work, 'large-film.mp4'), low: path.join(work, 'large-low.mp4') }
  const progress: number[] = []
  await encodeFilmWithLow(source, await probeMedia(source), out, f => progress.push(f))
  t.ok(progress.every((f, i) => i === 0 || f > (progress[i - 1] as number)) && progress.at(-1) === 1, `progress rises to 1: ${progress}`)
  for (const [file, size] of [
    [out.film, { width: 1728, height: 1080 }],
    [out.low, { width: 768, height: 480 }]
  ] as const) {
    const info = await probeMedia(file)
    t.match(
      info.video,
      { codec: 'h264', pixelFormat: 'yuv420p', hdr: 'sdr', ...size },
      `${path.basename(file)}: ${size.width}×${size.height}`
    )
  }
  const { stdout } = await run('ffprobe', [
    '-v',
    'error',
    '-select_streams',
    'v',
    '-show_entries',
    'stream=color_primaries,color_transfer,color_space',
    '-of',
    'csv=p=0',
    out.low
  ])
  t.equal(stdout.trim(), 'bt709,bt709,bt709', 'the low rendition is tagged BT.709')
})
