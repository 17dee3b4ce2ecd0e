// Renditions from publish, on real parts: small 10-bit HEVC sources with PQ (HDR10 mastering display and
// content light level) and with HLG, 5.1 E-AC-3 and two audio languages, published by a real custodian
// (ffmpeg, Helia, the devnet's contract). Each rendition is opened with the film's key and checked with
// ffprobe (colours, channel layouts, languages, codecs strings against ffprobe's profile and level) and
// decoded whole; the SDR one is tone-mapped, not the old 8-bit copy of the HDR pictures. Every ffmpeg
// run goes through /usr/bin/time (test/helpers/ffmpeg-runs.ts), to count the runs that encode.
import t from 'tap'
import { execFile } from 'node:child_process'
import { mkdir, writeFile } from 'node:fs/promises'
import path from 'node:path'
import { promisify } from 'node:util'
import { daemonPublishContext, publishFilm } from '../server/publish/publish-film.ts'
import { openBuffer } from '../server/sealing/open.ts'
import {
  MAX_METADATA_BYTES,
  parseCid,
  parseFilmMetadata,
  type FilmMetadata,
  type RenditionMetadata
} from '../server/library/film-metadata.ts'
import { filmParts } from '../server/library/film-parts.ts'
import { devnetWallet, startTestDevnet } from './helpers/devnet.ts'
import { daemonConfig, startTestDaemon, testDir, type Test } from './helpers/in-process.ts'
import { HDR, hdrSource, PICTURE_CUES, pictureSubtitledSource } from './helpers/film-sources.ts'
import { logEveryFfmpeg, type FfmpegRun } from './helpers/ffmpeg-runs.ts'

const run = promisify(execFile)
const devnet = await startTestDevnet(t)
const creator = devnetWallet(t, devnet, devnet.accounts.creator.privateKey)
const custodian = await startTestDaemon(t, daemonConfig(devnet, testDir(t, 'custodian'), ['custodian']))
const work = testDir(t, 'work')
await mkdir(work, { recursive: true })
const ffmpegRuns = await logEveryFfmpeg(work)

/** The ffmpeg runs after the first `before` that encode H.264: the files each read and wrote. */
async function h264EncodesSince(before: number): Promise<{ inputs: string[]; outputs: string[] }[]> {
  const files = (run: FfmpegRun, input: boolean) =>
    run.args.filter((arg, i) => (run.args[i - 1] === '-i') === input && /\.(mp4|mkv)$/.test(arg)).map(arg => path.basename(arg))
  return (await ffmpegRuns())
    .slice(before)
    .filter(run => run.args.includes('libx264'))
    .map(run => ({ inputs: files(run, true), outputs: files(run, false) }))
}

async function ffprobeJson(file: string, ...args: string[]): Promise<any> {
  const { stdout } = await run('ffprobe', ['-v', 'error', '-of', 'json', ...args, file])
  return JSON.parse(stdout)
}

/** Mean luma and saturation (8-bit scale) of a video's first frame. */
async function firstFrameStats(file: string): Promise<{ luma: number; saturation: number }> {
  const graph = `movie=${file},signalstats`
  const out = await ffprobeJson(graph, '-f', 'lavfi', '-read_intervals', '%+#1', '-show_entries', 'frame_tags')
  const tags = out.frames[0].tags
  const scale = Number(tags['lavfi.signalstats.YBITDEPTH'] ?? 8) === 10 ? 4 : 1
  return { luma: Number(tags['lavfi.signalstats.YAVG']) / scale, saturation: Number(tags['lavfi.signalstats.SATAVG']) / scale }
}

/**
 * Publishes a source; the metadata and each rendition's plaintext, opened with the film key, as a file
 * by role (`subtitled-<n>` for the rendition of picture subtitle stream n).
 */
async function publishAndOpen(name: string, input: string): Promise<{ metadata: FilmMetadata; files: Map<string, string> }> {
  const { metadataCid } = await publishFilm(daemonPublishContext(custodian, creator), { input, title: name })
  const metadata = parseFilmMetadata(await custodian.helia.content.readBytes(parseCid(metadataCid)))
  const key = (await custodian.custody?.get(metadata.content.cid)) as Uint8Array
  const files = new Map<string, string>()
  for (const rendition of metadata.renditions ?? []) {
    const which = rendition.burnedIn === undefined ? rendition.role : `${rendition.role}-${rendition.burnedIn.imageSubtitle}`
    const file = path.join(work, `${name}-${which}.mp4`)
    await writeFile(file, openBuffer(key, await custodian.helia.content.readBytes(parseCid(rendition.cid))))
    files.set(which, file)
  }
  return { metadata, files }
}

/** The codecs string ffprobe's profile and level call for: HEVC Main 10 is profile 2, H.264 High 100 (0x64). */
function expectedVideoCodecs(stream: { codec_name: string; profile: string; level: number }): RegExp {
  if (stream.codec_name === 'hevc')
    return new RegExp(`^hvc1\\.${stream.profile === 'Main 10' ? 2 : 1}\\.[0-9A-F]+\\.L${stream.level}(\\.[0-9A-F]{1,2})*$`)
  const level = stream.level.toString(16).padStart(2, '0')
  const profile = { High: '64', Main: '4d', Baseline: '42', 'Constrained Baseline': '42' }[stream.profile]
  return new RegExp(`^avc1\\.${profile}[0-9a-f]{2}${level}$`)
}

/** What ffprobe finds in a rendition: its streams (video first) with colours, layouts and languages. */
async function streamsOf(file: string): Promise<any[]> {
  const entries =
    'stream=codec_name,codec_tag_string,profile,level,pix_fmt,color_primaries,color_transfer,color_space,channels,channel_layout:stream_tags=language'
  return (await ffprobeJson(file, '-show_entries', entries)).streams
}

/** Checks the metadata's codecs strings and audio list against the file ffprobe reads. */
async function checkDescribed(t: Test, rendition: RenditionMetadata, file: string): Promise<void> {
  const [video, ...audio] = await streamsOf(file)
  t.match(
    rendition.video.codecs,
    expectedVideoCodecs(video),
    `${rendition.role}: ${rendition.video.codecs} is ffprobe's ${video.profile} @ ${video.level}`
  )
  t.same(
    rendition.audio,
    audio.map(a => ({
      codecs: a.codec_name === 'eac3' ? 'ec-3' : 'mp4a.40.2',
      channels: a.channels,
      ...(a.tags?.language !== 'und' ? { language: a.tags.language } : {})
    })),
    `${rendition.role}: the audio tracks as the MP4 has them`
  )
  t.equal(rendition.codecs, [rendition.video.codecs, ...rendition.audio.map(a => a.codecs)].join(','))
  const { stderr } = await run('ffmpeg', ['-v', 'error', '-i', file, '-map', '0', '-f', 'null', '-'])
  t.equal(stderr, '', `${rendition.role}: decodes whole without an error`)
}

for (const hdr of ['pq', 'hlg'] as const) {
  t.test(`an HEVC ${hdr.toUpperCase()} source publishes to the original HEVC, a tone-mapped SDR and a low rendition`, async t => {
    const source = await hdrSource(work, hdr)
    const runsBefore = (await ffmpegRuns()).length
    const { metadata, files } = await publishAndOpen(hdr, source)
    t.same(
      await h264EncodesSince(runsBefore),
      [{ inputs: [`${hdr}.mkv`], outputs: ['film.mp4', 'rendition-low.mp4'] }],
      'one ffmpeg run decodes the source once for the SDR film and the low rendition'
    )
    const byRole = new Map((metadata.renditions ?? []).map(r => [r.role, r]))
    t.same([...byRole.keys()], ['sdr', 'original', 'low'])
    t.equal(byRole.get('sdr')?.cid, metadata.content.cid, 'the SDR rendition is the film served as before')
    t.match(byRole.get('original'), { video: { hdr, width: 320, height: 180 }, fragmented: true })
    t.match(byRole.get('sdr'), { video: { hdr: 'sdr', width: 320, height: 180 }, fragmented: true })
    t.match(byRole.get('low'), { video: { hdr: 'sdr', height: 180 }, fragmented: true })
    for (const rendition of byRole.values()) await checkDescribed(t, rendition, files.get(rendition.role) as string)

    const [original, ...originalAudio] = await streamsOf(files.get('original') as string)
    t.match(original, { codec_name: 'hevc', codec_tag_string: 'hvc1', profile: 'Main 10', pix_fmt: 'yuv420p10le' })
    t.match(original, { color_primaries: 'bt2020', color_transfer: HDR[hdr].transfer, color_space: 'bt2020nc' }, 'HDR colours kept')
    t.same(
      originalAudio.map(a => [a.codec_name, a.channel_layout, a.tags.language]),
      [
        ['aac', 'stereo', 'eng'],
        ['aac', 'stereo', 'fra'],
        ['eac3', '5.1(side)', 'eng']
      ],
      'AAC stereo of each language first, then the E-AC-3 5.1 as it was'
    )
    if (hdr === 'pq') {
      const frame = await ffprobeJson(files.get('original') as string, '-select_streams', 'v', '-read_intervals', '%+#1', '-show_frames')
      const sideData = frame.frames[0].side_data_list.map((d: any) => d.side_data_type)
      t.ok(sideData.includes('Mastering display metadata'), 'HDR10 mastering display kept')
      t.match(frame.frames[0].side_data_list, [{ max_luminance: '10000000/10000' }, { max_content: 1000, max_average: 400 }])
    }

    const [sdr, ...sdrAudio] = await streamsOf(files.get('sdr') as string)
    t.match(sdr, { codec_name: 'h264', pix_fmt: 'yuv420p', color_primaries: 'bt709', color_transfer: 'bt709', color_space: 'bt709' })
    t.same(
      sdrAudio.map(a => [a.codec_name, a.channels, a.tags.language]),
      [
        ['aac', 6, 'eng'],
        ['aac', 2, 'fra']
      ],
      'the SDR film keeps every language, as AAC'
    )
    const [low, ...lowAudio] = await streamsOf(files.get('low') as string)
    t.match(low, { codec_name: 'h264', pix_fmt: 'yuv420p', color_primaries: 'bt709', color_transfer: 'bt709', color_space: 'bt709' })
    t.same(
      lowAudio.map(a => [a.codec_name, a.channel_layout, a.tags.language]),
      [
        ['aac', 'stereo', 'eng'],
        ['aac', 'stereo', 'fra']
      ]
    )

    // The old pipeline: the HDR pictures' code values squeezed into 8 bits, unchanged
    const naive = path.join(work, `${hdr}-naive.mp4`)
    await run('ffmpeg', [
      '-v',
      'error',
      '-y',
      '-i',
      source,
      '-map',
      '0:v',
      '-c:v',
      'libx264',
      '-pix_fmt',
      'yuv420p',
      '-frames:v',
      '1',
      naive
    ])
    const [mapped, untouched] = [await firstFrameStats(files.get('sdr') as string), await firstFrameStats(naive)]
    t.ok(mapped.luma > 30 && mapped.luma < 200, `SDR mean luma ${mapped.luma.toFixed(1)} is a picture, not black or white`)
    t.ok(
      Math.abs(mapped.luma - untouched.luma) > 15 || Math.abs(mapped.saturation - untouched.saturation) > 15,
      `tone-mapped (luma ${mapped.luma.toFixed(1)}, saturation ${mapped.saturation.toFixed(1)}) is not the 8-bit copy of the HDR code values (${untouched.luma.toFixed(1)}, ${untouched.saturation.toFixed(1)})`
    )
  })
}

/** The SDR source's metadata, for the checks of the metadata format. */
let sdrFilm: FilmMetadata | undefined

t.test('an SDR H.264 source: its film as before, a low rendition, no original', async t => {
  const input = path.join(work, 'sdr.mp4')
  await run('ffmpeg', [
    ...['-v', 'error', '-y', '-f', 'lavfi', '-i', 'testsrc2=size=640x360:rate=25:duration=2'],
    ...['-f', 'lavfi', '-i', 'sine=frequency=330:sample_rate=48000:duration=2'],
    ...['-vf', 'noise=alls=12:allf=t', '-c:v', 'libx264', '-preset', 'ultrafast', '-pix_fmt', 'yuv420p'],
    ...['-c:a', 'aac', '-movflags', '+faststart', input]
  ])
  const runsBefore = (await ffmpegRuns()).length
  const { metadata, files } = await publishAndOpen('sdr', input)
  t.same(
    await h264EncodesSince(runsBefore),
    [{ inputs: ['sdr.mp4'], outputs: ['rendition-low.mp4'] }],
    'the film used as it is; the low rendition a run of its own'
  )
  sdrFilm = metadata
  t.same(
    metadata.renditions?.map(r => r.role),
    ['sdr', 'low']
  )
  for (const rendition of metadata.renditions ?? []) await checkDescribed(t, rendition, files.get(rendition.role) as string)
  t.match(metadata.renditions?.[1], { video: { width: 640, height: 360, hdr: 'sdr' } })
  const [sdr, low] = metadata.renditions as RenditionMetadata[]
  t.same([sdr.fragmented, low.fragmented], [false, true], 'a faststart source used as it is stays unfragmented: its sdr has no HLS')
  // capped at 1.2 Mbit/s with a 2.4 Mbit buffer: over 2 s at most 2.4 Mbit/s of video, and 96 kbit/s of audio
  t.ok(low.bitrate < sdr.bitrate && low.bitrate <= 2_500_000, `low: ${low.bitrate} bit/s, under the film's ${sdr.bitrate} and the cap`)

  const quiet = path.join(work, 'quiet.mp4')
  await run('ffmpeg', ['-v', 'error', '-y', '-f', 'lavfi', '-i', 'testsrc2=size=320x180:rate=25:duration=2', '-c:v', 'libx264', quiet])
  const quietFilm = await publishAndOpen('quiet', quiet)
  t.same(
    quietFilm.metadata.renditions?.map(r => r.role),
    ['sdr'],
    'a source under 2.4 Mbit/s gets no low rendition: it would not halve its bits'
  )
})

t.test('renditions in the metadata: checked, optional, and within the size cap at their longest', async t => {
  const metadata = sdrFilm as FilmMetadata
  const [sdr, low] = metadata.renditions as RenditionMetadata[]
  const parse = (renditions: unknown) => () =>
    parseFilmMetadata(new TextEncoder().encode(JSON.stringify({ ...metadata, renditions }, null, 2)))
  t.doesNotThrow(parse(undefined), 'a film published before renditions still reads')
  t.throws(parse([sdr, low, low]), { name: 'MetadataError', message: 'film metadata is invalid: /renditions/2 is a second low rendition' })
  t.throws(parse([sdr, { ...low, role: 'sdr' }]), { message: 'film metadata is invalid: /renditions/1 is a second sdr rendition' })
  t.throws(parse([sdr, { ...sdr, role: 'original' }]), {
    message: "film metadata is invalid: /renditions/1: the sdr rendition, and only it, is the film's content"
  })
  t.throws(parse([sdr, { ...low, sealedBytes: low.sealedBytes + 1 }]), {
    message: `film metadata is invalid: /renditions/1/sealedBytes is not the sealed size of ${low.plaintextBytes} bytes`
  })
  t.throws(parse([sdr, { ...low, codecs: 'avc1.64001e,<script>' }]), { message: /\/renditions\/1\/codecs must match pattern/ })
  t.throws(parse([sdr, { ...low, audio: [{ codecs: 'mp4a.40.2', channels: 2, language: 'ﬀﬀﬀ' }] }]), {
    message: /\/renditions\/1\/audio\/0\/language must match pattern/
  })

  // The longest list the schema allows, as publish writes it (codecs and languages ASCII, labels any
  // text: 4 bytes a character at worst): what it adds to the metadata's size cap
  const longest = (role: string, imageSubtitle?: number) => ({
    ...low,
    role,
    ...(imageSubtitle !== undefined ? { burnedIn: { imageSubtitle, language: 'a'.repeat(35), label: '𝄞'.repeat(100) } } : {}),
    cid: 'b'.repeat(200),
    codecs: 'c'.repeat(17 * 60),
    video: { codecs: 'd'.repeat(60), width: 16384, height: 16384, hdr: 'sdr' },
    audio: Array(16).fill({ codecs: 'e'.repeat(60), channels: 64, language: 'f'.repeat(35) })
  })
  const all = [...['sdr', 'original', 'low'].map(role => longest(role)), longest('subtitled', 30), longest('subtitled', 31)]
  const bytes = Buffer.byteLength(JSON.stringify({ renditions: all }, null, 2))
  t.ok(bytes <= 25 * 1024, `the longest renditions list takes ${bytes} bytes of the ${MAX_METADATA_BYTES}`)
  t.throws(parse([...all, longest('low')]), { message: /\/renditions must NOT have more than 5 items/ })
})

/** The luma plane (640×360) of a video's frame at `seconds`, decoded from the start (no keyframe seeking). */
async function lumaAt(file: string, seconds: number): Promise<Buffer> {
  const args = ['-v', 'error', '-i', file, '-ss', String(seconds), '-frames:v', '1', '-f', 'rawvideo', '-pix_fmt', 'gray', '-']
  const { stdout } = await run('ffmpeg', args, { encoding: 'buffer', maxBuffer: 1 << 24 })
  return stdout
}

/** The cues' boxes and the blocks below are multiples of 10 pixels. */
const BLOCK = 10

/**
 * How two 640-wide luma planes differ: the mean absolute difference inside `box`, and the largest
 * mean over a 10×10 block outside it (two encodes of one picture differ by a few levels everywhere; a
 * subtitle anywhere else makes some block differ by tens).
 */
function lumaDifference(a: Buffer, b: Buffer, box: { x: number; y: number; width: number; height: number }) {
  const blocks = new Map<string, { sum: number; count: number }>()
  for (let i = 0; i < a.length; i++) {
    const [x, y] = [i % 640, Math.floor(i / 640)]
    const inBox = x >= box.x && x < box.x + box.width && y >= box.y && y < box.y + box.height
    const key = inBox ? 'box' : `${Math.floor(x / BLOCK)},${Math.floor(y / BLOCK)}`
    const block = blocks.get(key) ?? { sum: 0, count: 0 }
    block.sum += Math.abs(a[i] - b[i])
    block.count++
    blocks.set(key, block)
  }
  const { box: inside, ...outside } = Object.fromEntries([...blocks].map(([key, block]) => [key, block.sum / block.count]))
  return { inside, outside: Math.max(...Object.values(outside)) }
}

t.test('PGS picture subtitles: the forced and the default stream each burned into a version of their own', async t => {
  const { metadata, files } = await publishAndOpen('pgs', await pictureSubtitledSource(path.join(work, 'pgs-source')))
  t.same(
    metadata.imageSubtitles,
    [
      { language: 'eng', codec: 'hdmv_pgs_subtitle' },
      { language: 'fra', codec: 'hdmv_pgs_subtitle', forced: true },
      { language: 'deu', codec: 'hdmv_pgs_subtitle' }
    ],
    'every picture subtitle stream listed, the forced one marked'
  )
  const subtitled = (metadata.renditions ?? []).filter(r => r.role === 'subtitled')
  t.same(
    subtitled.map(r => r.burnedIn),
    [
      { imageSubtitle: 1, language: 'fra' },
      { imageSubtitle: 0, language: 'eng' }
    ],
    'the forced stream, then the default one; the third is past the cap of two'
  )
  const sdrFile = files.get('sdr') as string
  for (const rendition of subtitled) {
    const which = `subtitled-${rendition.burnedIn?.imageSubtitle}`
    const file = files.get(which) as string
    t.match(rendition, { fragmented: true, video: { width: 640, height: 360, hdr: 'sdr' } })
    await checkDescribed(t, rendition, file)
    const [video] = await streamsOf(file)
    t.match(video, { codec_name: 'h264', pix_fmt: 'yuv420p' }, `${which}: H.264 as the sdr film`)
    const { box } = PICTURE_CUES[rendition.burnedIn?.language as keyof typeof PICTURE_CUES]
    const shown = lumaDifference(await lumaAt(file, 1), await lumaAt(sdrFile, 1), box)
    t.ok(shown.inside > 40, `${which} at 1 s: the subtitle's box differs from the sdr film's by ${shown.inside.toFixed(1)} luma levels`)
    t.ok(
      shown.outside < 20,
      `${which} at 1 s: the rest of the picture is the sdr film's (no block off by more than ${shown.outside.toFixed(1)})`
    )
    const before = lumaDifference(await lumaAt(file, 0.2), await lumaAt(sdrFile, 0.2), box)
    t.ok(before.inside < 3, `${which} at 0.2 s, before the subtitle: its box is the sdr film's (off by ${before.inside.toFixed(2)})`)
  }

  t.same(
    filmParts('metadata', metadata)
      .filter(part => part.kind === 'rendition')
      .map(part => part.name)
      .sort(),
    ['English picture subtitles version', 'French picture subtitles version'],
    'boxes pin and storage nodes replicate each, named for the dashboard'
  )

  const parse = (renditions: unknown) => () =>
    parseFilmMetadata(new TextEncoder().encode(JSON.stringify({ ...metadata, renditions }, null, 2)))
  const [sdr] = metadata.renditions as RenditionMetadata[]
  const [fra, eng] = subtitled
  const invalid = 'film metadata is invalid: /renditions'
  t.throws(parse([sdr, { ...fra, burnedIn: undefined }]), {
    message: `${invalid}/1: a subtitled rendition names its subtitle stream in burnedIn`
  })
  t.throws(parse([{ ...sdr, burnedIn: fra.burnedIn }]), { message: `${invalid}/0: only a subtitled rendition has burnedIn` })
  for (const burnedIn of [
    { imageSubtitle: 3, language: 'fra' },
    { imageSubtitle: 1, language: 'eng' }
  ])
    t.throws(parse([sdr, { ...fra, burnedIn }]), {
      message: `${invalid}/1/burnedIn names no picture subtitle stream of /imageSubtitles with its language`
    })
  t.throws(parse([sdr, fra, { ...eng, burnedIn: fra.burnedIn }]), {
    message: `${invalid}/2 is a second rendition of picture subtitle stream 1`
  })
  t.throws(parse([sdr, fra, eng, { ...eng, burnedIn: { imageSubtitle: 2, language: 'deu' } }]), {
    message: `${invalid}/3 is more than 2 subtitled renditions`
  })
})
