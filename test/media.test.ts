import { execFile } from 'node:child_process'
import { readFile, stat, writeFile } from 'node:fs/promises'
import os from 'node:os'
import path from 'node:path'
import { promisify } from 'node:util'
import ffmpeg from 'fluent-ffmpeg'
import t from 'tap'
import { extractPoster, extractThumbnailSheets } from '../server/publish/artwork.ts'
import { generateDemoClip } from '../server/publish/demo-clip.ts'
import { normaliseForDirectPlay, planNormalisation, type NormalisePlan } from '../server/publish/normalise.ts'
import { MediaError, probeMedia, type HdrFormat, type MediaInfo } from '../server/publish/probe.ts'
import { runFfmpeg } from '../server/publish/ffmpeg-run.ts'
import { extractSubtitleStreamToWebVtt, subtitleFileToWebVtt } from '../server/publish/subtitles.ts'
import { withPlaintextWorkDir } from '../server/publish/work-dir.ts'

const run = promisify(execFile)

/** Makes a small test file with ffmpeg from lavfi sources; args go between the inputs and the output. */
async function makeClip(out: string, opts: { seconds?: number; size?: string; extraInputs?: string[]; args: string[] }): Promise<string> {
  const { seconds = 2, size = '320x240', extraInputs = [] } = opts
  await run('ffmpeg', [
    '-v',
    'error',
    '-y',
    '-f',
    'lavfi',
    '-i',
    `testsrc2=size=${size}:rate=25:duration=${seconds}`,
    '-f',
    'lavfi',
    '-i',
    `sine=frequency=330:sample_rate=48000:duration=${seconds}`,
    ...extraInputs,
    ...opts.args,
    out
  ])
  return out
}

async function ffprobeJson(file: string, ...args: string[]): Promise<any> {
  const { stdout } = await run('ffprobe', ['-v', 'error', '-of', 'json', ...args, file])
  return JSON.parse(stdout)
}

async function videoPacketHash(file: string): Promise<string> {
  const { stdout } = await run('ffmpeg', [
    '-v',
    'error',
    '-i',
    file,
    '-map',
    '0:v:0',
    '-c',
    'copy',
    '-f',
    'streamhash',
    '-hash',
    'md5',
    '-'
  ])
  return stdout.trim()
}

/** Average luma (0-255) of an image or of a crop of it. */
async function averageLuma(image: string, crop?: string): Promise<number> {
  const graph = `movie=${image}${crop ? `,crop=${crop}` : ''},signalstats`
  const out = await ffprobeJson(graph, '-f', 'lavfi', '-show_entries', 'frame_tags=lavfi.signalstats.YAVG')
  return Number(out.frames[0].tags['lavfi.signalstats.YAVG'])
}

const H264_AAC = ['-c:v', 'libx264', '-preset', 'ultrafast', '-pix_fmt', 'yuv420p', '-c:a', 'aac']

t.test('demo clip: 30 s 720p H.264/AAC faststart MP4 with English SRT, poster and seek thumbnails', async t => {
  const dir = t.testdir()
  const { video, subtitles } = await generateDemoClip(dir)
  const info = await probeMedia(video)
  t.ok(Math.abs(info.durationSeconds - 30) <= 0.5, `duration ${info.durationSeconds} ≈ 30`)
  t.match(info.video, { codec: 'h264', width: 1280, height: 720, pixelFormat: 'yuv420p', frameRate: 25 })
  t.same(
    info.audio.map(a => a.codec),
    ['aac']
  )
  t.ok(info.container.split(',').includes('mp4'))
  t.equal(info.faststart, true)
  t.equal(info.sizeBytes, (await stat(video)).size)
  t.same(planNormalisation(info), { videoCodec: 'copy', audioCodec: 'copy', remux: false }, 'the demo already plays as-is')

  const keyframes = await ffprobeJson(video, '-select_streams', 'v:0', '-skip_frame', 'nokey', '-show_entries', 'frame=pts_time')
  t.same(
    keyframes.frames.slice(0, 3).map((f: any) => Number(f.pts_time)),
    [0, 2, 4],
    'a keyframe every 2 s'
  )

  const srt = await readFile(subtitles, 'utf8')
  const cueTexts = srt
    .split(/\r?\n\r?\n/)
    .filter(Boolean)
    .map(cue => cue.split('\n').slice(2).join('\n').trim())
  t.ok(cueTexts.length >= 5, `${cueTexts.length} cues in 30 s`)
  const vtt = path.join(dir, 'demo.vtt')
  await subtitleFileToWebVtt(subtitles, vtt)
  const vttText = await readFile(vtt, 'utf8')
  t.ok(vttText.startsWith('WEBVTT'))
  for (const text of cueTexts) t.ok(vttText.includes(text), `VTT carries "${text.split('\n')[0]}"`)
  t.match(vttText, /00:00\.000 --> 00:0\d\.\d{3}/)

  // 15 tiles in sheets of 5×2: one pass writes a full sheet of 10 and a last one of 5 (1 row)
  const sheets = await extractThumbnailSheets(video, info, dir, { intervalSeconds: 2, tileWidth: 160, columns: 5, rows: 2 })
  t.match(sheets.grid, { count: 15, columns: 5, rows: 2, tileWidth: 160, tileHeight: 90 })
  t.same(
    sheets.files.map(file => path.basename(file)),
    ['sheet-0.jpg', 'sheet-1.jpg']
  )
  const sizes = []
  for (const file of sheets.files) sizes.push((await ffprobeJson(file, '-show_streams')).streams[0])
  t.match(sizes, [
    { codec_name: 'mjpeg', width: 800, height: 180 },
    { codec_name: 'mjpeg', width: 800, height: 90 }
  ])
  t.ok((await averageLuma(sheets.files[1], '160:90:640:0')) > 40, 'the last tile (28 s) holds a frame, not black padding')
})

t.test('thumbnail sheets past the last keyframe: its frame is held to the end, the last sheet is written', async t => {
  const dir = t.testdir()
  // 23 s with keyframes at 0 and 12 s only: tiles every 2 s, sheets of 10; sheet 1 (20, 22 s) is past both
  const video = await makeClip(path.join(dir, 'sparse.mp4'), {
    seconds: 23,
    size: '320x180',
    args: ['-map', '0:v', ...H264_AAC, '-g', '300']
  })
  const keyframes = await ffprobeJson(video, '-select_streams', 'v:0', '-skip_frame', 'nokey', '-show_entries', 'frame=pts_time')
  t.same(
    keyframes.frames.map((f: any) => Number(f.pts_time)),
    [0, 12],
    'keyframes at 0 and 12 s'
  )
  const sheets = await extractThumbnailSheets(video, await probeMedia(video), dir, { intervalSeconds: 2, columns: 5, rows: 2 })
  t.match(sheets.grid, { count: 12, columns: 5, rows: 2 })
  const last = (await ffprobeJson(sheets.files[1], '-show_streams')).streams[0]
  t.match(last, { width: 800, height: 90 }, 'the last sheet: one row of the 2 tiles at 20 and 22 s')
  t.ok((await averageLuma(sheets.files[1], '160:90:160:0')) > 40, 'its last tile (22 s) holds the 12 s keyframe, not black padding')
})

t.test('thumbnails of a short film whose video starts after zero (AAC priming): every tile has a frame', async t => {
  const dir = t.testdir()
  // 2 s, its video starting 0.02 s in as after an AAC encoder's priming: shorter than one 10 s interval
  const video = await makeClip(path.join(dir, 'late.mp4'), {
    seconds: 2,
    size: '320x180',
    args: [...H264_AAC, '-output_ts_offset', '0.02']
  })
  const start = (await ffprobeJson(video, '-select_streams', 'v:0', '-show_entries', 'stream=start_time')).streams[0].start_time
  t.ok(Number(start) >= 0.02, `video starts at ${start} s`)
  const sheets = await extractThumbnailSheets(video, await probeMedia(video), dir)
  t.match(sheets.grid, { count: 1, intervalSeconds: 10 })
  t.ok((await averageLuma(sheets.files[0], '160:90:0:0')) > 40, 'its one tile holds the first frame, not black padding')
})

t.test('planNormalisation follows the direct-play rules', async t => {
  const mp4 = 'mov,mp4,m4a,3gp,3g2,mj2'
  const mkv = 'matroska,webm'
  const video = (codec: string, pixelFormat = 'yuv420p', hdr: HdrFormat = 'sdr') => ({
    codec,
    pixelFormat,
    width: 1920,
    height: 1080,
    colour: {},
    hdr
  })
  const audio = (...codecs: string[]) => codecs.map((codec, i) => ({ index: i + 1, codec, channels: 2 }))
  const cases: [string, Partial<MediaInfo>, NormalisePlan][] = [
    [
      'faststart MP4 H.264/AAC is used as-is',
      { container: mp4, faststart: true, video: video('h264'), audio: audio('aac') },
      { videoCodec: 'copy', audioCodec: 'copy', remux: false }
    ],
    [
      'faststart MP4 H.264/MP3 is used as-is',
      { container: mp4, faststart: true, video: video('h264'), audio: audio('mp3') },
      { videoCodec: 'copy', audioCodec: 'copy', remux: false }
    ],
    [
      'faststart MP4 H.264 without audio is used as-is',
      { container: mp4, faststart: true, video: video('h264'), audio: [] },
      { videoCodec: 'copy', audioCodec: 'none', remux: false }
    ],
    [
      'MP4 with the index at the end is remuxed',
      { container: mp4, faststart: false, video: video('h264'), audio: audio('aac') },
      { videoCodec: 'copy', audioCodec: 'copy', remux: true }
    ],
    [
      'MKV H.264/AAC is remuxed with stream copy',
      { container: mkv, faststart: false, video: video('h264'), audio: audio('aac') },
      { videoCodec: 'copy', audioCodec: 'copy', remux: true }
    ],
    [
      'faststart MP4 H.264/AC-3: audio to AAC',
      { container: mp4, faststart: true, video: video('h264'), audio: audio('ac3') },
      { videoCodec: 'copy', audioCodec: 'aac', remux: true }
    ],
    [
      'MKV H.264 with AAC and DTS tracks',
      { container: mkv, faststart: false, video: video('h264'), audio: audio('aac', 'dts') },
      { videoCodec: 'copy', audioCodec: 'aac', remux: true }
    ],
    [
      'faststart MP4 HEVC/AAC: video to H.264',
      { container: mp4, faststart: true, video: video('hevc'), audio: audio('aac') },
      { videoCodec: 'libx264', audioCodec: 'copy', remux: true }
    ],
    [
      'MKV 10-bit H.264/FLAC',
      { container: mkv, faststart: false, video: video('h264', 'yuv420p10le'), audio: audio('flac') },
      { videoCodec: 'libx264', audioCodec: 'aac', remux: true }
    ],
    [
      'MKV 4:4:4 H.264/AAC',
      { container: mkv, faststart: false, video: video('h264', 'yuv444p'), audio: audio('aac') },
      { videoCodec: 'libx264', audioCodec: 'copy', remux: true }
    ],
    [
      'WebM VP9/Opus',
      { container: mkv, faststart: false, video: video('vp9'), audio: audio('opus') },
      { videoCodec: 'libx264', audioCodec: 'aac', remux: true }
    ],
    [
      'MKV AV1 without audio',
      { container: mkv, faststart: false, video: video('av1'), audio: [] },
      { videoCodec: 'libx264', audioCodec: 'none', remux: true }
    ],
    [
      'MPEG-PS MPEG-2/AC-3',
      { container: 'mpeg', faststart: false, video: video('mpeg2video'), audio: audio('ac3') },
      { videoCodec: 'libx264', audioCodec: 'aac', remux: true }
    ],
    [
      'faststart MP4 H.264 8-bit tagged HDR (PQ) is re-encoded: tone-mapped to SDR',
      { container: mp4, faststart: true, video: video('h264', 'yuv420p', 'pq'), audio: audio('aac') },
      { videoCodec: 'libx264', audioCodec: 'copy', remux: true }
    ],
    [
      'AVI MPEG-4 part 2/MP3',
      { container: 'avi', faststart: false, video: video('mpeg4'), audio: audio('mp3') },
      { videoCodec: 'libx264', audioCodec: 'copy', remux: true }
    ]
  ]
  for (const [name, partial, expected] of cases) {
    const info: MediaInfo = {
      durationSeconds: 60,
      sizeBytes: 1,
      subtitles: [],
      chapters: [],
      container: '',
      audio: [],
      faststart: false,
      ...partial
    }
    t.same(planNormalisation(info), expected, name)
  }
  t.throws(
    () =>
      planNormalisation({
        durationSeconds: 60,
        sizeBytes: 1,
        container: mp4,
        audio: audio('aac'),
        subtitles: [],
        chapters: [],
        faststart: true
      }),
    MediaError
  )
})

t.test('normalise: MKV H.264/AAC is remuxed by stream copy into a faststart MP4 without subtitles', async t => {
  const dir = t.testdir({ 'subs.srt': '1\n00:00:00,200 --> 00:00:01,500\nHello from inside the MKV\n' })
  const input = await makeClip(path.join(dir, 'in.mkv'), {
    extraInputs: ['-i', path.join(dir, 'subs.srt')],
    args: ['-map', '0:v', '-map', '1:a', '-map', '2:s', ...H264_AAC, '-c:s', 'srt', '-metadata:s:s:0', 'language=eng']
  })
  const info = await probeMedia(input)
  t.equal(info.faststart, false, 'MKV has no MP4 index')
  t.same(info.subtitles, [{ index: 2, codec: 'subrip', language: 'eng', title: undefined, forced: false, default: false }])

  const progress: number[] = []
  const out = path.join(dir, 'out.mp4')
  const { file, plan } = await normaliseForDirectPlay(input, info, out, f => progress.push(f))
  t.equal(file, out)
  t.same(plan, { videoCodec: 'copy', audioCodec: 'copy', remux: true })
  t.equal(progress.at(-1), 1)

  const outInfo = await probeMedia(out)
  t.equal(outInfo.video?.codec, 'h264')
  t.same(
    outInfo.audio.map(a => a.codec),
    ['aac']
  )
  t.same(outInfo.subtitles, [], 'subtitles are not carried in the MP4')
  t.equal(outInfo.faststart, true)
  t.ok(Math.abs(outInfo.durationSeconds - info.durationSeconds) < 0.1, 'same duration')
  t.equal(await videoPacketHash(out), await videoPacketHash(input), 'video packets are byte-identical: not re-encoded')

  const vtt = path.join(dir, 'embedded.vtt')
  await extractSubtitleStreamToWebVtt(input, await probeMedia(input), 2, vtt)
  const vttText = await readFile(vtt, 'utf8')
  t.match(vttText, /^WEBVTT/)
  const cue = /(\d\d\.\d{3}) --> (?:\d\d:)+(\d\d\.\d{3})\s+Hello from inside the MKV/.exec(vttText)
  t.ok(cue, vttText)
  // The MKV muxer shifts every stream by the AAC priming delay; what must hold is the cue's place relative to the picture.
  const outVideoStart = Number(
    (await ffprobeJson(out, '-select_streams', 'v:0', '-show_entries', 'stream=start_time')).streams[0].start_time
  )
  t.ok(
    Math.abs(Number(cue?.[1]) - outVideoStart - 0.2) < 0.002,
    `cue starts 0.2 s after the first frame of the normalised video (${cue?.[1]} vs ${outVideoStart})`
  )
  t.ok(Math.abs(Number(cue?.[2]) - Number(cue?.[1]) - 1.3) < 0.002, 'cue lasts 1.3 s')
  await t.rejects(extractSubtitleStreamToWebVtt(input, await probeMedia(input), 0, vtt), {
    name: 'MediaError',
    message: /stream 0 .* not a subtitle stream.*2 \(subrip\)/
  })
})

t.test('normalise: MPEG-4 part 2/MP2 in AVI is transcoded to H.264/AAC with progress', async t => {
  const dir = t.testdir()
  const input = await makeClip(path.join(dir, 'in.avi'), {
    seconds: 20,
    size: '480x270',
    args: ['-c:v', 'mpeg4', '-q:v', '5', '-c:a', 'mp2']
  })
  const info = await probeMedia(input)
  t.match(info, { video: { codec: 'mpeg4' }, audio: [{ codec: 'mp2' }] })

  const progress: number[] = []
  const out = path.join(dir, 'out.mp4')
  const { plan } = await normaliseForDirectPlay(input, info, out, f => progress.push(f))
  t.same(plan, { videoCodec: 'libx264', audioCodec: 'aac', remux: true })
  t.ok(
    progress.some(f => f > 0 && f < 1),
    `progress during the encode: ${progress.map(f => f.toFixed(2)).join(' ')}`
  )
  t.ok(
    progress.every((f, i) => i === 0 || f > progress[i - 1]),
    'fractions increase'
  )
  t.equal(progress.at(-1), 1)

  const outInfo = await probeMedia(out)
  t.match(outInfo, {
    video: { codec: 'h264', pixelFormat: 'yuv420p', width: 480, height: 270 },
    audio: [{ codec: 'aac' }],
    faststart: true
  })
  t.ok(Math.abs(outInfo.durationSeconds - 20) < 0.2, `duration ${outInfo.durationSeconds}`)
  t.same(planNormalisation(outInfo), { videoCodec: 'copy', audioCodec: 'copy', remux: false }, 'the result plays as-is')
})

t.test('normalise: HEVC/Opus in MKV is transcoded', async t => {
  const dir = t.testdir()
  const input = await makeClip(path.join(dir, 'in.mkv'), {
    args: ['-c:v', 'libx265', '-preset', 'ultrafast', '-x265-params', 'log-level=error', '-c:a', 'libopus']
  })
  const info = await probeMedia(input)
  const out = path.join(dir, 'out.mp4')
  const { plan } = await normaliseForDirectPlay(input, info, out)
  t.same(plan, { videoCodec: 'libx264', audioCodec: 'aac', remux: true })
  t.match(await probeMedia(out), { video: { codec: 'h264' }, audio: [{ codec: 'aac' }], faststart: true })
})

t.test('normalise: an MP4 with the index at the end gets it moved to the front; a faststart MP4 is left alone', async t => {
  const dir = t.testdir()
  const late = await makeClip(path.join(dir, 'late.mp4'), { args: H264_AAC })
  const info = await probeMedia(late)
  t.equal(info.faststart, false, 'ffmpeg writes moov after mdat without +faststart')
  const out = path.join(dir, 'out.mp4')
  const { file, plan } = await normaliseForDirectPlay(late, info, out)
  t.equal(file, out)
  t.same(plan, { videoCodec: 'copy', audioCodec: 'copy', remux: true })
  t.equal((await probeMedia(out)).faststart, true)
  t.equal(await videoPacketHash(out), await videoPacketHash(late))

  const again = await normaliseForDirectPlay(out, await probeMedia(out), path.join(dir, 'unused.mp4'))
  t.equal(again.file, out, 'already direct-play: the input is returned')
  await t.rejects(stat(path.join(dir, 'unused.mp4')), { code: 'ENOENT' })
})

t.test('subtitles: mov_text in MP4 and a Windows-1252 SRT become WebVTT', async t => {
  const dir = t.testdir({ 'subs.srt': '1\n00:00:00,500 --> 00:00:01,000\nMovie text track\n' })
  await writeFile(path.join(dir, 'legacy.srt'), Buffer.from('1\r\n00:00:01,000 --> 00:00:02,000\r\nCaf\xe9 cr\xe8me\r\n', 'latin1'))
  const input = await makeClip(path.join(dir, 'in.mp4'), {
    extraInputs: ['-i', path.join(dir, 'subs.srt')],
    args: ['-map', '0:v', '-map', '1:a', '-map', '2:s', ...H264_AAC, '-c:s', 'mov_text']
  })
  const info = await probeMedia(input)
  t.same(
    info.subtitles.map(s => s.codec),
    ['mov_text']
  )
  const vtt = path.join(dir, 'movtext.vtt')
  await extractSubtitleStreamToWebVtt(input, info, info.subtitles[0].index, vtt)
  t.match(await readFile(vtt, 'utf8'), /^WEBVTT[\s\S]*00:00\.500 --> 00:01\.000\s+Movie text track/)

  const legacyVtt = path.join(dir, 'legacy.vtt')
  await subtitleFileToWebVtt(path.join(dir, 'legacy.srt'), legacyVtt)
  t.match(await readFile(legacyVtt, 'utf8'), /00:01\.000 --> 00:02\.000\s+Café crème/)

  await writeFile(path.join(dir, 'notsubs.srt'), 'this is not a subtitle file\n')
  await t.rejects(subtitleFileToWebVtt(path.join(dir, 'notsubs.srt'), path.join(dir, 'x.vtt')), MediaError)
  await t.rejects(stat(path.join(dir, 'x.vtt')), { code: 'ENOENT' }, 'no partial output left behind')
})

t.test('poster: a frame past a black opening, scaled to at most 1280 wide', async t => {
  const dir = t.testdir()
  const fadingIn = await makeClip(path.join(dir, 'fade.mp4'), { seconds: 4, size: '640x360', args: ['-vf', 'fade=in:0:5', ...H264_AAC] })
  const poster = path.join(dir, 'poster.jpg')
  await extractPoster(fadingIn, await probeMedia(fadingIn), poster)
  t.match((await ffprobeJson(poster, '-show_streams')).streams[0], { codec_name: 'mjpeg', width: 640, height: 360 })
  t.ok((await averageLuma(poster)) > 40, 'not a black frame')

  const wide = await makeClip(path.join(dir, 'wide.mkv'), { seconds: 1, size: '1600x200', args: H264_AAC })
  const widePoster = path.join(dir, 'wide.jpg')
  await extractPoster(wide, await probeMedia(wide), widePoster)
  t.match((await ffprobeJson(widePoster, '-show_streams')).streams[0], { codec_name: 'mjpeg', width: 1280, height: 160 })
})

t.test('errors: files that are not videos give a MediaError that says why', async t => {
  const dir = t.testdir({ 'notes.txt': 'just some notes, not a film\n' })
  await t.rejects(probeMedia(path.join(dir, 'notes.txt')), { name: 'MediaError', message: /notes\.txt is not a video/ })
  await t.rejects(probeMedia(path.join(dir, 'missing.mp4')), { name: 'MediaError', message: /missing\.mp4: no such file/ })
  await t.rejects(probeMedia(dir), { name: 'MediaError', message: /not a regular file/ })
  const wav = path.join(dir, 'tone.wav')
  await run('ffmpeg', ['-v', 'error', '-f', 'lavfi', '-i', 'sine=duration=1', wav])
  await t.rejects(probeMedia(wav), { name: 'MediaError', message: /tone\.wav is not a video.*audio pcm_s16le.*no video stream/ })
})

t.test('an ffmpeg that stops printing is killed, its partial output removed, and the step named', async t => {
  const dir = t.testdir({ 'partial.mp4': 'left by an earlier attempt' })
  // reading a FIFO nobody writes to blocks ffmpeg after its banner: silent, like a wedged process
  const fifo = path.join(dir, 'never-written')
  await run('mkfifo', [fifo])
  const outFile = path.join(dir, 'partial.mp4')
  const command = ffmpeg(fifo)
  await t.rejects(runFfmpeg(command, outFile, 'normalising the stuck film', { stallMs: 1000 }), {
    name: 'MediaError',
    message: 'normalising the stuck film failed: ffmpeg printed nothing for 1 s and was stopped'
  })
  await t.rejects(stat(outFile), { code: 'ENOENT' }, 'no partial output is left')
  await t.rejects(run('pgrep', ['-f', fifo]), { code: 1 }, 'no ffmpeg reading the FIFO is left running')
})

t.test('withPlaintextWorkDir: a private temp dir removed after success and after a throw', async t => {
  let seen = ''
  const result = await withPlaintextWorkDir(async dir => {
    seen = dir
    t.equal(path.dirname(dir), os.tmpdir())
    t.equal((await stat(dir)).mode & 0o777, 0o700)
    await writeFile(path.join(dir, 'plain.bin'), 'secret film bytes')
    return 42
  })
  t.equal(result, 42)
  await t.rejects(stat(seen), { code: 'ENOENT' })

  await t.rejects(
    withPlaintextWorkDir(async dir => {
      seen = dir
      await writeFile(path.join(dir, 'plain.bin'), 'secret film bytes')
      throw new Error('publish failed')
    }),
    { message: 'publish failed' }
  )
  await t.rejects(stat(seen), { code: 'ENOENT' })
})
