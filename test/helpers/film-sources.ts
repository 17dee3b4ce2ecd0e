// Sources as films really come (issue 16), made with ffmpeg: 10-bit HEVC with PQ (HDR10 mastering display
// and content light level) or HLG metadata, 5.1 E-AC-3 in English, then AAC stereo in French; or SDR
// H.264 with one AAC track, grainy enough for a low rendition. Small for the tests; 4K and minutes long
// for the publish benchmark (bench/publish-hdr.ts).
import { execFile } from 'node:child_process'
import { mkdir } from 'node:fs/promises'
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
