import { mkdir, rm, writeFile } from 'node:fs/promises'
import path from 'node:path'
import ffmpeg from 'fluent-ffmpeg'
import { runFfmpeg } from './ffmpeg-run.ts'
import { MediaError } from './probe.ts'

const FRAME_RATE = 25
/** Seconds between keyframes. */
const KEYFRAME_EVERY_SECONDS = 2
const CUE_EVERY_SECONDS = 5
const CUE_LENGTH_SECONDS = 4
/**
 * Synthesises a demo film: a moving test pattern with a beeping tone, H.264/AAC in a faststart MP4 with a
 * keyframe every 2 s, and an English SRT with a cue every few seconds. 25 frames a second unless told
 * (a long clip for tests is made much faster at 1). With `repeatEverySeconds`, only that much is encoded
 * and the rest repeats it, its streams copied: 720p25 at x264's veryfast costs about 7 CPU seconds per
 * 30 s here, so a 6-minute demo repeating 30 s costs what 30 s does instead of 88 s. Tests that tell
 * frames apart by time (thumbnails) need a clip that does not repeat.
 */
export async function generateDemoClip(
  outDir: string,
  opts: { seconds?: number; width?: number; height?: number; frameRate?: number; repeatEverySeconds?: number } = {}
): Promise<{ video: string; subtitles: string }> {
  const { seconds = 30, width = 1280, height = 720, frameRate = FRAME_RATE } = opts
  const encoded = Math.min(seconds, opts.repeatEverySeconds ?? seconds)
  if (encoded % KEYFRAME_EVERY_SECONDS !== 0 && encoded < seconds)
    throw new MediaError(`a repeated stretch must be whole keyframe intervals (${KEYFRAME_EVERY_SECONDS} s), got ${encoded}`)
  if (!(seconds > 0)) throw new MediaError(`demo clip length must be positive, got ${seconds}`)
  if (!Number.isInteger(frameRate) || frameRate <= 0)
    throw new MediaError(`demo clip frame rate must be a positive integer, got ${frameRate}`)
  for (const [name, value] of [
    ['width', width],
    ['height', height]
  ] as const) {
    if (!Number.isInteger(value) || value <= 0 || value % 2 !== 0)
      throw new MediaError(`demo clip ${name} must be a positive even integer, got ${value}`)
  }
  await mkdir(outDir, { recursive: true })
  const video = path.join(outDir, 'demo.mp4')
  const subtitles = path.join(outDir, 'demo.en.srt')

  if (encoded === seconds) {
    await encodePattern(video, { seconds, width, height, frameRate })
  } else {
    const pattern = path.join(outDir, 'pattern.mp4')
    await encodePattern(pattern, { seconds: encoded, width, height, frameRate })
    await repeatClip(pattern, video, seconds, encoded)
    await rm(pattern)
  }
  await writeFile(subtitles, demoSrt(seconds))
  return { video, subtitles }
}

async function encodePattern(video: string, clip: { seconds: number; width: number; height: number; frameRate: number }): Promise<void> {
  const { seconds, width, height, frameRate } = clip
  const command = ffmpeg()
    .input(`testsrc2=size=${width}x${height}:rate=${frameRate}:duration=${seconds}`)
    .inputFormat('lavfi')
    .input(`sine=frequency=440:beep_factor=4:sample_rate=48000:duration=${seconds}`)
    .inputFormat('lavfi')
    .outputOptions([
      '-map',
      '0:v',
      '-map',
      '1:a',
      '-c:v',
      'libx264',
      '-preset',
      'veryfast',
      // under 2.4 Mbit/s with the audio, where publish's low rendition would not halve it
      // (renditions.ts): the demo's first start makes no second encode of six minutes
      '-maxrate',
      '1800k',
      '-bufsize',
      '3600k',
      '-pix_fmt',
      'yuv420p',
      '-g',
      String(KEYFRAME_EVERY_SECONDS * frameRate),
      '-keyint_min',
      String(KEYFRAME_EVERY_SECONDS * frameRate),
      '-sc_threshold',
      '0',
      '-c:a',
      'aac',
      '-b:a',
      '128k',
      '-metadata',
      'title=Seed One demo',
      '-metadata:s:a:0',
      'language=eng',
      '-movflags',
      '+faststart',
      '-f',
      'mp4'
    ])
  await runFfmpeg(command, video, 'generating the demo clip')
}

/** `seconds` of `clip` played over and over, its streams copied. */
async function repeatClip(clip: string, video: string, seconds: number, clipSeconds: number): Promise<void> {
  const command = ffmpeg()
    .input(clip)
    .inputOptions(['-stream_loop', String(Math.ceil(seconds / clipSeconds) - 1)])
    .outputOptions(['-map', '0', '-c', 'copy', '-t', String(seconds), '-movflags', '+faststart', '-f', 'mp4'])
  await runFfmpeg(command, video, 'repeating the demo clip')
}

function demoSrt(seconds: number): string {
  const cues: string[] = []
  for (let start = 0, n = 1; start < seconds; start += CUE_EVERY_SECONDS, n++) {
    const end = Math.min(start + CUE_LENGTH_SECONDS, seconds)
    cues.push(`${n}\n${srtTime(start)} --> ${srtTime(end)}\nSeed One demo, subtitle ${n}.\nThis film is ${seconds} seconds long.\n`)
  }
  return cues.join('\n')
}

function srtTime(seconds: number): string {
  const ms = Math.round(seconds * 1000)
  const pad = (n: number, width = 2) => String(n).padStart(width, '0')
  return `${pad(Math.floor(ms / 3600000))}:${pad(Math.floor(ms / 60000) % 60)}:${pad(Math.floor(ms / 1000) % 60)},${pad(ms % 1000, 3)}`
}
