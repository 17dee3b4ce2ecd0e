// A 10-bit HEVC HDR source, as real films arrive: publish keeps its video as the HDR original,
// tone-maps it for the SDR content and, its bits a second being high enough, makes a low rendition.
// Small for the tests; 4K and minutes long for the publish benchmark (bench/publish-hdr.ts).
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
 * A 10-bit HEVC source in MKV, `<dir>/<hdr>.mkv` (its video starts at 0.02 s, as after AAC priming):
 * 5.1 E-AC-3 640 kbit/s in English, then AAC stereo in French. The test pattern's bright, saturated
 * bars make tone mapping show; its grain (noise) keeps it from compressing like a flat pattern, so it
 * has the bits a second asked for, and at 3 Mbit/s a low rendition is worth making. x265 ultrafast:
 * making the source is not what is measured.
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
    ...['-x265-params', `log-level=error:repeat-headers=1:colorprim=bt2020:colormatrix=bt2020nc:${x265}`],
    ...['-color_primaries', 'bt2020', '-color_trc', transfer, '-colorspace', 'bt2020nc'],
    ...['-c:a:0', 'eac3', '-b:a:0', '640k', '-c:a:1', 'aac', '-ac:a:1', '2'],
    ...['-metadata:s:a:0', 'language=eng', '-metadata:s:a:1', 'language=fra', out]
  ])
  return out
}
