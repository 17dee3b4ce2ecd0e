// Publishing a 4K HDR film: what each rendition costs to make (CPU seconds) and to store (sealed
// bytes), measured on a generated 3840×2160 10-bit HEVC PQ source (HDR10 mastering display and
// MaxCLL, 5.1 E-AC-3 English, AAC stereo French; test/helpers/film-sources.ts) through publishFilm on a
// custodian daemon and a devnet, and projected for a 2-hour film.
//
//   npx node bench/publish-hdr.ts [--seconds 120] [--cache /tmp/seed-one-bench-cache] [--frames /some/dir]
//
// Not part of `npm run bench`: the 2-minute source costs about 13 CPU minutes of x265 to make once (it
// is kept in --cache and reused) and its publish about 10 more, half an hour or more of wall time on a
// shared 2-core machine; run it alone when publish's encoding changes. It lowers its own priority to nice 19 (ffmpeg inherits it) so
// that it only takes CPU nobody else wants, which is why it measures CPU seconds, not wall time:
// every ffmpeg run goes through /usr/bin/time (test/helpers/ffmpeg-runs.ts) to give its user + system
// seconds, and the node process's own (sealing, hashing, Helia) comes from process.cpuUsage() per step.
// --frames writes, for looking at by eye, a frame of the HEVC original shown through a PQ→SDR display
// conversion, of the SDR rendition, and of the old pipeline's 8-bit copy of the HDR code values, for
// this source and for a 720p HLG one.
import { execFile } from 'node:child_process'
import { mkdir, mkdtemp, rename, rm, stat, writeFile } from 'node:fs/promises'
import os from 'node:os'
import path from 'node:path'
import { parseArgs, promisify } from 'node:util'
import { Wallet } from 'ethers'
import { startBenchChain } from './custodian.ts'
import { hdrSource, type SourceShape } from '../test/helpers/film-sources.ts'
import { logEveryFfmpeg, type FfmpegRun } from '../test/helpers/ffmpeg-runs.ts'
import { devnetAccounts } from '../server/devnet/accounts.ts'
import type { Daemon } from '../server/daemon.ts'
import { parseCid, parseFilmMetadata, type FilmMetadata, type RenditionMetadata } from '../server/library/film-metadata.ts'
import { daemonPublishContext, publishFilm } from '../server/publish/publish-film.ts'
import { withPlaintextWorkDir } from '../server/publish/work-dir.ts'
import { openBuffer } from '../server/sealing/open.ts'
import { TONE_MAP } from '../server/publish/normalise.ts'
import { report, type Row } from './report.ts'

const run = promisify(execFile)
const MiB = 1024 * 1024
const GiB = 1024 * MiB
const TWO_HOURS = 2 * 3600
/** The source: 24 fps, 20 Mbit/s, a streaming service's 4K HEVC (a UHD Blu-ray's runs 40–100). */
const SOURCE = { size: '3840x2160', fps: 24, videoBitrate: '20M' }

const { values } = parseArgs({
  options: {
    seconds: { type: 'string', default: '120' },
    cache: { type: 'string', default: path.join(os.tmpdir(), 'seed-one-bench-cache') },
    frames: { type: 'string' }
  }
})
const seconds = Number(values.seconds)
if (!(seconds > 0)) throw new RangeError(`--seconds must be positive, got ${values.seconds}`)
os.setPriority(19)

/** The PQ source from the cache, made there first when missing (in a folder of its own until it is whole). */
async function cachedSource(cacheDir: string, shape: SourceShape): Promise<string> {
  const file = path.join(cacheDir, `pq-${shape.size}-${shape.fps}fps-${shape.seconds}s-${shape.videoBitrate}.mkv`)
  if (await stat(file).catch(() => undefined)) return file
  console.log(`making the ${shape.seconds} s source ${file} (not timed; kept for later runs)`)
  const partial = `${file}.partial`
  await rename(await hdrSource(partial, 'pq', shape), file)
  await rm(partial, { recursive: true })
  return file
}

/**
 * Which renditions an ffmpeg run made, by the work files it wrote (sdr and low together where publish
 * encodes both in one run); none for the other steps (poster, thumbnails).
 */
function madeBy(run: FfmpegRun): string[] {
  return run.args.flatMap((arg, i) => {
    if (run.args[i - 1] === '-i') return [] // poster and thumbnails read film.mp4
    const name = path.basename(arg)
    return name === 'film.mp4' ? ['sdr'] : (/^rendition-(\w+)\.mp4$/.exec(name)?.slice(1) ?? [])
  })
}

/** Bytes under a folder, as du counts them (the blocks a storage node keeps). */
async function diskBytes(dir: string): Promise<number> {
  return Number((await run('du', ['-sb', dir])).stdout.split('\t')[0])
}

interface MeasuredPublish {
  metadata: FilmMetadata
  /** Wall and node CPU seconds of each progress step, from the previous report to its own last. */
  steps: Map<string, { wall: number; nodeCpu: number }>
  ffmpeg: FfmpegRun[]
  /** How much the custodian's data folder grew. */
  diskBytes: number
}

/** publishFilm of `input` by the custodian whose data folder is `dataDir`, measured. */
async function measuredPublish(
  custodian: Daemon,
  dataDir: string,
  creator: Wallet,
  input: string,
  ffmpegRuns: () => Promise<FfmpegRun[]>
): Promise<MeasuredPublish> {
  const [diskBefore, runsBefore] = [await diskBytes(dataDir), (await ffmpegRuns()).length]
  const steps = new Map<string, { wall: number; nodeCpu: number }>()
  let [previous, previousCpu] = [performance.now(), process.cpuUsage()]
  const { metadataCid } = await publishFilm(
    daemonPublishContext(custodian, creator, name => {
      const [now, cpu] = [performance.now(), process.cpuUsage()]
      const step = steps.get(name) ?? { wall: 0, nodeCpu: 0 }
      step.wall += (now - previous) / 1000
      step.nodeCpu += (cpu.user - previousCpu.user + cpu.system - previousCpu.system) / 1e6
      steps.set(name, step)
      ;[previous, previousCpu] = [now, cpu]
    }),
    { input, title: 'HDR benchmark' }
  )
  const metadata = parseFilmMetadata(await custodian.helia.content.readBytes(parseCid(metadataCid)))
  return { metadata, steps, ffmpeg: (await ffmpegRuns()).slice(runsBefore), diskBytes: (await diskBytes(dataDir)) - diskBefore }
}

/** Frames at 1 s of each rendition (opened with the film key) and of the old pipeline, as PNG files in `dir`. */
async function writeFrames(custodian: Daemon, metadata: FilmMetadata, source: string, name: string, dir: string): Promise<string[]> {
  const key = (await custodian.custody?.get(metadata.content.cid)) as Uint8Array
  const written: string[] = []
  const frame = async (input: string, filter: string, out: string) => {
    await run('ffmpeg', ['-v', 'error', '-y', '-ss', '1', '-i', input, '-map', '0:v:0', '-vf', filter, '-frames:v', '1', out])
    written.push(out)
  }
  for (const rendition of metadata.renditions ?? []) {
    const file = path.join(dir, `${name}-${rendition.role}.mp4`)
    await writeFile(file, openBuffer(key, await custodian.helia.content.readBytes(parseCid(rendition.cid))))
    const show = rendition.video.hdr === 'sdr' ? 'scale=-2:720' : `scale=-2:720,${TONE_MAP}`
    const suffix = rendition.video.hdr === 'sdr' ? '' : '-shown-as-sdr'
    await frame(file, `${show},format=rgb24`, path.join(dir, `${name}-${rendition.role}${suffix}.png`))
    await rm(file)
  }
  await frame(source, 'scale=-2:720,format=yuv420p,format=rgb24', path.join(dir, `${name}-old-pipeline-8-bit-copy.png`))
  return written
}

const perFilmSecond = (x: number) => x / seconds
const toTwoHours = (x: number) => (x * TWO_HOURS) / seconds

/** A table row per rendition, the other ffmpeg runs, and the whole publish; projections for 2 hours. */
function costRows(measured: MeasuredPublish): Record<string, Row> {
  const renditions = measured.metadata.renditions ?? []
  const node = (name: string) => measured.steps.get(name)?.nodeCpu ?? 0
  // sealing and adding cost node CPU in proportion to bytes: the renditions' step split by their sizes
  const otherSealed = renditions.slice(1).reduce((sum, r) => sum + r.plaintextBytes, 0)
  const sealCpu = (r: RenditionMetadata) => (r.role === 'sdr' ? node('seal') : (node('seal renditions') * r.plaintextBytes) / otherSealed)
  const row = (runs: FfmpegRun[], sealSeconds: number, bytes?: { plain: number; sealed: number; bitrate: number }): Row => {
    const cpu = runs.reduce((sum, r) => sum + r.cpu, 0)
    return {
      'ffmpeg CPU s': +cpu.toFixed(1),
      'ffmpeg wall s': +runs.reduce((sum, r) => sum + r.wall, 0).toFixed(1),
      'seal + add CPU s': +sealSeconds.toFixed(1),
      'CPU s per film s': +perFilmSecond(cpu + sealSeconds).toFixed(2),
      ...(bytes && {
        MiB: +(bytes.plain / MiB).toFixed(1),
        'sealed MiB': +(bytes.sealed / MiB).toFixed(1),
        'Mbit/s': +(bytes.bitrate / 1e6).toFixed(2)
      }),
      '2 h: CPU hours': +(toTwoHours(cpu + sealSeconds) / 3600).toFixed(2),
      ...(bytes && { '2 h: sealed GiB': +(toTwoHours(bytes.sealed) / GiB).toFixed(1) })
    }
  }
  const rows: Record<string, Row> = {}
  for (const r of renditions) {
    const runs = measured.ffmpeg.filter(run => madeBy(run).join() === r.role)
    rows[`${r.role} (${r.video.codecs}, ${r.video.width}×${r.video.height}, ${r.video.hdr})`] = row(runs, sealCpu(r), {
      plain: r.plaintextBytes,
      sealed: r.sealedBytes,
      bitrate: r.bitrate
    })
  }
  // a run that made several renditions: a row of its own (theirs show their bytes and sealing)
  const shared = Map.groupBy(
    measured.ffmpeg.filter(run => madeBy(run).length > 1),
    run => madeBy(run).join(' + ')
  )
  for (const [made, runs] of shared) rows[`${made} (one ffmpeg run)`] = row(runs, 0)
  const sealedCpu = renditions.reduce((sum, r) => sum + sealCpu(r), 0)
  const nodeCpu = [...measured.steps.values()].reduce((sum, s) => sum + s.nodeCpu, 0)
  rows['other steps (probe, poster, thumbnails, metadata, register)'] = row(
    measured.ffmpeg.filter(run => madeBy(run).length === 0),
    nodeCpu - sealedCpu
  )
  const sealed = renditions.reduce((sum, r) => sum + r.sealedBytes, 0)
  rows['whole publish'] = row(measured.ffmpeg, nodeCpu, {
    plain: renditions.reduce((s, r) => s + r.plaintextBytes, 0),
    sealed,
    bitrate: renditions.reduce((s, r) => s + r.bitrate, 0)
  })
  return rows
}

/** What the table leaves out: the source, the steps, the 2-hour projections of time and disk, how it was measured. */
function costNotes(measured: MeasuredPublish, rows: Record<string, Row>, sourceBytes: number): string[] {
  const whole = rows['whole publish']
  const cpuHours = Number(whole['2 h: CPU hours'])
  const renditions = measured.metadata.renditions ?? []
  const sdr = renditions.find(r => r.role === 'sdr') as RenditionMetadata
  const sealed = renditions.reduce((sum, r) => sum + r.sealedBytes, 0)
  const ffmpegCpu = measured.ffmpeg.reduce((sum, r) => sum + r.cpu, 0)
  const ffmpegWall = measured.ffmpeg.reduce((sum, r) => sum + r.wall, 0)
  const hours = (x: number) => `${x.toFixed(1)} h`
  return [
    `Source: ${seconds} s of 3840×2160 ${SOURCE.fps} fps 10-bit HEVC PQ with HDR10 metadata (testsrc2 with temporal noise as film grain, x265 ultrafast at ${SOURCE.videoBitrate}bit/s, ${(sourceBytes / MiB).toFixed(1)} MiB), 5.1 E-AC-3 640 kbit/s English, AAC stereo French; made once by test/helpers/film-sources.ts and kept in --cache, not timed.`,
    `CPU, not wall time, is the measure: the machine is shared, and the benchmark runs at nice 19. ffmpeg CPU s is user + system of each ffmpeg run (/usr/bin/time around each, set as fluent-ffmpeg's ffmpeg path), told apart by the files it wrote; seal + add CPU s is this node process's (process.cpuUsage) in the seal steps, the renditions' share split by their bytes. ffprobe runs are not counted (under a second). Wall seconds here are under load and only an upper bound: the ffmpeg runs used ${(ffmpegCpu / ffmpegWall).toFixed(2)} cores on average.`,
    `Every step of publishFilm, wall seconds: ${[...measured.steps].map(([n, s]) => `${n} ${s.wall.toFixed(1)}`).join(', ')}.`,
    'sdr is the normalise step (scaled to 1080 lines, then zscale + tonemap mobius, libx264 faster CRF 21, every audio track to AAC); original a stream copy of the HEVC video with AAC stereo of each language added; low libx264 faster CRF 23 capped at 1.2 Mbit/s, 480 lines, scaled down from the 1080-line picture of the SDR film before its own tone map. publish makes sdr and low in one ffmpeg run that decodes and tone-maps the source once (server/publish/film-with-low.ts): that run has its row, and their rows show no ffmpeg run of their own.',
    `Projected for a 2-hour film (×${(TWO_HOURS / seconds).toFixed(0)}, linear: every step but probe, poster and register costs per frame): ${cpuHours.toFixed(2)} CPU hours at this Xeon's per-core speed. On this 2-core machine alone that is at least ${hours(cpuHours / 2)} of wall time (both cores busy throughout); on 4 cores of this speed at least ${hours(cpuHours / 4)}. A Pi 5's Cortex-A76 cores are slower at x264 than this Xeon's (not measured here), so on a 4-core Pi-class machine it is longer still: these are projections, not runs.`,
    `Disk per film on a storage node, projected for 2 hours: ${(toTwoHours(sealed) / GiB).toFixed(1)} GiB for the sealed renditions, against ${(toTwoHours(sdr.sealedBytes) / GiB).toFixed(1)} GiB for the SDR film alone (the film's content, all a node kept before renditions; for an HDR source that was a 4K 8-bit H.264 with the colours wrong, not measured here) — ${(sealed / sdr.sealedBytes).toFixed(1)}× as much. The custodian's data folder grew by ${(measured.diskBytes / MiB).toFixed(1)} MiB for this ${seconds} s film (the renditions' ${(sealed / MiB).toFixed(1)} MiB plus poster, thumbnails and metadata, as blocks in its blockstore).`,
    "The original's size is the source's own video: a real UHD Blu-ray's HEVC runs 40–100 Mbit/s, a streaming service's 15–25, against this synthetic 20; the SDR and low renditions' bytes depend on the picture (this one is a test pattern with grain)."
  ]
}

const dir = await mkdtemp(path.join(os.tmpdir(), 'seed-one-bench-publish-hdr-'))
const ffmpegRuns = await logEveryFfmpeg(dir)
const source = await cachedSource(values.cache, { ...SOURCE, seconds })
const { provider, custodian, close } = await startBenchChain(dir)
try {
  const creator = new Wallet(devnetAccounts.creator.privateKey, provider)
  const dataDir = path.join(dir, 'custodian')
  const measured = await measuredPublish(custodian, dataDir, creator, source, ffmpegRuns)
  const rows = costRows(measured)
  const notes = costNotes(measured, rows, (await stat(source)).size)
  if (values.frames !== undefined) {
    await mkdir(values.frames, { recursive: true })
    const frames = values.frames
    const files = await writeFrames(custodian, measured.metadata, source, 'pq-4k', frames)
    await withPlaintextWorkDir(async work => {
      const hlg = await hdrSource(work, 'hlg', { size: '1280x720', seconds: 3, fps: 24, videoBitrate: '4M' })
      const { metadata } = await measuredPublish(custodian, dataDir, creator, hlg, ffmpegRuns)
      files.push(...(await writeFrames(custodian, metadata, hlg, 'hlg-720p', frames)))
    })
    console.log(`frames:\n${files.join('\n')}`)
  }
  await report({
    id: 'publish-hdr',
    title: 'Publish of a 4K HDR film: each rendition’s CPU and storage, projected for 2 hours',
    command: `npx node bench/publish-hdr.ts --seconds ${seconds}`,
    goal: 'context (no goal set): publish time and storage per rendition, for a 2-hour 4K HDR film',
    met: null,
    rows,
    notes
  })
} finally {
  await close()
  await rm(dir, { recursive: true, force: true })
}
