// Sources as films really come (issue 16), made with ffmpeg: 10-bit HEVC with PQ (HDR10 mastering display
// and content light level) or HLG metadata, 5.1 E-AC-3 in English, then AAC stereo in French; or SDR
// H.264 with one AAC track, grainy enough for a low rendition; or H.264 with PGS picture subtitles.
// Small for the tests; 4K and minutes long for the publish benchmark (bench/publish-hdr.ts).
import { execFile } from 'node:child_process'
import { mkdir, writeFile } from 'node:fs/promises'
import path from 'node:path'
import { promisify } from 'node:util'

const run = promisify(execFile)

const MASTER_DISPLAY = 'G(13250,34500)B(7500,3000)R(34000,16000)WP(15635,16450)L(10000000,1)'
export const HDR = {
  pq: { transfer: 'smpte2084', x265: `hdr10=1:transfer=smpte2084:master-display=${MASTER_DISPLAY}:max-cll=1000,400` },
  hlg: { transfer: 'arib-std-b67', x265: 'transfer=arib-std-b67' }
}

/** The picture's size, length and rate: by default what the tests need. */
export interface SourceShape {
  /** ffmpeg's WxH, e.g. 3840x2160. */
  size: string
  seconds: number
  fps: number
  /** The HEVC stream's rate, e.g. 20M. */
  videoBitrate: string
}

const SMALL: SourceShape = { size: '320x180', seconds: 2, fps: 25, videoBitrate: '3M' }

/**
 * A 10-bit HEVC source in MKV, `<dir>/<hdr>.mkv` (its video starts at 0.02 s, as after AAC priming),
 * a keyframe every 2 s as the H.264 renditions have them, so fragments of every rendition start
 * together: 5.1 E-AC-3 640 kbit/s in English, then AAC stereo in French. The test pattern's bright,
 * saturated bars make tone mapping show; its grain (noise) keeps it from compressing like a flat
 * pattern, so it has the bits a second asked for, and at 3 Mbit/s a low rendition is worth making.
 * x265 ultrafast: making the source is not what is measured.
 */
export async function hdrSource(dir: string, hdr: keyof typeof HDR, shape: Partial<SourceShape> = {}): Promise<string> {
  const { size, seconds, fps, videoBitrate } = { ...SMALL, ...shape }
  await mkdir(dir, { recursive: true })
  const out = path.join(dir, `${hdr}.mkv`)
  const { transfer, x265 } = HDR[hdr]
  const sine = (hz: number) => ['-f', 'lavfi', '-i', `sine=frequency=${hz}:sample_rate=48000:duration=${seconds}`]
  await run('ffmpeg', [
    ...['-v', 'error', '-y', '-f', 'lavfi', '-i', `testsrc2=size=${size}:rate=${fps}:duration=${seconds}`, ...sine(330), ...sine(440)],
    ...[
      '-filter_complex',
      '[0:v]noise=alls=12:allf=t,format=yuv420p10le[v];[1:a]pan=5.1(side)|c0=c0|c1=c0|c2=c0|c3=c0|c4=c0|c5=c0[surround]'
    ],
    ...['-map', '[v]', '-map', '[surround]', '-map', '2:a', '-c:v', 'libx265', '-preset', 'ultrafast', '-b:v', videoBitrate],
    ...[
      '-x265-params',
      `log-level=error:repeat-headers=1:keyint=${2 * fps}:min-keyint=${2 * fps}:colorprim=bt2020:colormatrix=bt2020nc:${x265}`
    ],
    ...['-color_primaries', 'bt2020', '-color_trc', transfer, '-colorspace', 'bt2020nc'],
    ...['-c:a:0', 'eac3', '-b:a:0', '640k', '-c:a:1', 'aac', '-ac:a:1', '2'],
    ...['-metadata:s:a:0', 'language=eng', '-metadata:s:a:1', 'language=fra', out]
  ])
  return out
}

/**
 * A `seconds` long 640×360 H.264 source in MKV with one AAC stereo track, `dir/sdr.mkv`, a keyframe
 * every 2 s: its grain (noise) takes the SDR film to several Mbit/s at publish, where the low
 * rendition (at most 1.2 Mbit/s of video) is a quarter or less of it.
 */
export async function sdrSource(dir: string, seconds: number): Promise<string> {
  await mkdir(dir, { recursive: true })
  const out = path.join(dir, 'sdr.mkv')
  await run('ffmpeg', [
    ...['-v', 'error', '-y', '-f', 'lavfi', '-i', `testsrc2=size=640x360:rate=25:duration=${seconds}`],
    ...['-f', 'lavfi', '-i', `sine=frequency=330:sample_rate=48000:duration=${seconds}`],
    ...['-vf', 'noise=alls=16:allf=t', '-c:v', 'libx264', '-preset', 'ultrafast', '-crf', '18', '-pix_fmt', 'yuv420p', '-g', '50'],
    ...['-c:a', 'aac', '-ac', '2', out]
  ])
  return out
}

/** A picture subtitle: a white box (a line of text as a PGS shows it: a bitmap) over the picture from `start` to `end`. */
export interface PictureCue {
  startSeconds: number
  endSeconds: number
  box: { x: number; y: number; width: number; height: number }
}

/** One PGS segment: "PG", its PTS (90 kHz), a DTS of 0, its type and length, its data. */
function pgsSegment(seconds: number, type: number, data: number[]): Buffer {
  const head = Buffer.alloc(13)
  head.write('PG', 0, 'latin1')
  head.writeUInt32BE(Math.round(seconds * 90_000), 2)
  head.writeUInt8(type, 10)
  head.writeUInt16BE(data.length, 11)
  return Buffer.concat([head, Buffer.from(data)])
}

const u16 = (n: number) => [n >> 8, n & 0xff]

/**
 * A raw PGS (.sup) stream as Blu-ray discs carry it, written by hand from the format (ffmpeg decodes PGS
 * but cannot encode it): for each cue a display set at its start (composition, window, palette with
 * white as entry 1, the box as an object run-length coded a line at a time, end) and an empty one at its end.
 */
export function pgsStream(canvas: { width: number; height: number }, cues: PictureCue[]): Buffer {
  const composition = (n: number, box?: PictureCue['box']) => [
    ...[...u16(canvas.width), ...u16(canvas.height), 0x10, ...u16(n), box ? 0x80 : 0x00, 0x00, 0x00, box ? 1 : 0],
    ...(box ? [...u16(0), 0, 0, ...u16(box.x), ...u16(box.y)] : [])
  ]
  const sets = cues.flatMap((cue, n) => {
    const { box } = cue
    const window = [1, 0, ...u16(box.x), ...u16(box.y), ...u16(box.width), ...u16(box.height)]
    // a line: `width` pixels of entry 1 (0x00, 0b11 and the 14-bit length, the entry), then end of line (0x00 0x00)
    const line = [0x00, 0xc0 | (box.width >> 8), box.width & 0xff, 1, 0x00, 0x00]
    const rle = Array.from({ length: box.height }, () => line).flat()
    const objectLength = rle.length + 4
    const object = [...u16(0), 0, 0xc0, objectLength >> 16, (objectLength >> 8) & 0xff, objectLength & 0xff]
    return [
      pgsSegment(cue.startSeconds, 0x16, composition(2 * n, box)),
      pgsSegment(cue.startSeconds, 0x17, window),
      pgsSegment(cue.startSeconds, 0x14, [0, 0, 1, 235, 128, 128, 255]),
      pgsSegment(cue.startSeconds, 0x15, [...object, ...u16(box.width), ...u16(box.height), ...rle]),
      pgsSegment(cue.startSeconds, 0x80, []),
      pgsSegment(cue.endSeconds, 0x16, composition(2 * n + 1)),
      pgsSegment(cue.endSeconds, 0x17, window),
      pgsSegment(cue.endSeconds, 0x80, [])
    ]
  })
  return Buffer.concat(sets)
}

/** Where the picture subtitles of pictureSubtitledSource show: English at the bottom, French and German at the top. */
export const PICTURE_CUES = {
  eng: { startSeconds: 0.5, endSeconds: 1.8, box: { x: 160, y: 290, width: 320, height: 40 } },
  fra: { startSeconds: 0.5, endSeconds: 1.8, box: { x: 200, y: 30, width: 240, height: 40 } },
  deu: { startSeconds: 0.5, endSeconds: 1.8, box: { x: 100, y: 30, width: 440, height: 40 } }
} satisfies Record<string, PictureCue>

/**
 * A 2 s 640×360 H.264 source in MKV, `dir/picture-subtitles.mkv`, with three PGS streams (pgsStream,
 * PICTURE_CUES): English (default), French (forced) on a canvas twice the picture's size (as a 1080-line
 * PGS over a 540-line picture), German. No audio: its video then starts at 0, as
 * the renditions publish encodes do, so their frames line up with the sdr film's (copied from it) for
 * a comparison pixel by pixel; with AAC, the copy starts 0.02 s later (the AAC priming), a frame apart.
 */
export async function pictureSubtitledSource(dir: string): Promise<string> {
  await mkdir(dir, { recursive: true })
  const out = path.join(dir, 'picture-subtitles.mkv')
  const languages = Object.keys(PICTURE_CUES) as Array<keyof typeof PICTURE_CUES>
  const sups = []
  for (const language of languages) {
    const sup = path.join(dir, `${language}.sup`)
    const cue = PICTURE_CUES[language]
    const scale = language === 'fra' ? 2 : 1
    const box = { x: cue.box.x * scale, y: cue.box.y * scale, width: cue.box.width * scale, height: cue.box.height * scale }
    await writeFile(sup, pgsStream({ width: 640 * scale, height: 360 * scale }, [{ ...cue, box }]))
    sups.push('-i', sup)
  }
  await run('ffmpeg', [
    // -copyts: each .sup's own times, not moved to start at 0 as ffmpeg moves every input's by default
    ...['-v', 'error', '-y', '-copyts', '-f', 'lavfi', '-i', 'testsrc2=size=640x360:rate=25:duration=2', ...sups],
    ...['-map', '0:v', ...languages.flatMap((_, n) => ['-map', `${n + 1}`])],
    ...['-c:v', 'libx264', '-preset', 'ultrafast', '-pix_fmt', 'yuv420p', '-g', '50', '-c:s', 'copy'],
    ...languages.flatMap((language, n) => [`-metadata:s:s:${n}`, `language=${language}`]),
    ...['-disposition:s:0', 'default', '-disposition:s:1', 'forced', '-disposition:s:2', '0', out]
  ])
  return out
}
