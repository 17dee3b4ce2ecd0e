import { rm } from 'node:fs/promises'
import type ffmpeg from 'fluent-ffmpeg'
import { MediaError } from './probe.ts'

/**
 * How long ffmpeg may go without a line on stderr before it is taken as hung and killed. ffmpeg
 * prints its progress a few times a second while it works, so only a stuck process (a wedged
 * decoder, storage that stopped answering) stays silent this long; a slow transcode of a long film
 * on a Pi does not, however many hours it takes in all.
 */
export const FFMPEG_STALL_MS = 5 * 60_000

export interface RunFfmpegOptions {
  onSeconds?: (seconds: number) => void
  stallMs?: number
}

/**
 * Runs a prepared fluent-ffmpeg command to its output file, or to the several files its .output()
 * calls named. On failure, or when ffmpeg stalls, the partial output is removed and a MediaError names
 * the step and the reason.
 */
export function runFfmpeg(command: ffmpeg.FfmpegCommand, out: string | string[], step: string, opts: RunFfmpegOptions = {}): Promise<void> {
  const { onSeconds, stallMs = FFMPEG_STALL_MS } = opts
  return new Promise((resolve, reject) => {
    let stalled = false
    let watchdog: NodeJS.Timeout | undefined
    const watch = (): void => {
      clearTimeout(watchdog)
      watchdog = setTimeout(() => {
        stalled = true
        command.kill('SIGKILL')
      }, stallMs)
    }
    if (onSeconds) {
      command.on('progress', (progress: { timemark?: string }) => {
        const seconds = timemarkToSeconds(progress.timemark)
        if (seconds !== undefined) onSeconds(seconds)
      })
    }
    command
      .on('start', watch)
      .on('stderr', watch)
      .on('end', () => {
        clearTimeout(watchdog)
        resolve()
      })
      .on('error', (err: Error) => {
        clearTimeout(watchdog)
        const message = stalled
          ? `${step} failed: ffmpeg printed nothing for ${stallMs / 1000} s and was stopped`
          : /Cannot find ffmpeg|ENOENT/.test(err.message)
            ? 'ffmpeg was not found on the PATH: install ffmpeg (Debian: apt-get install ffmpeg)'
            : `${step} failed: ${err.message.trim().replace(/\s*\n\s*/g, ' | ')}`
        const outFiles = typeof out === 'string' ? [out] : out
        Promise.all(outFiles.map(file => rm(file, { force: true }))).finally(() => reject(new MediaError(message)))
      })
    if (typeof out === 'string') command.save(out)
    else command.run()
  })
}

/**
 * An onSeconds for a run through a whole film of durationSeconds: the fraction done, rising only and
 * short of 1 (the caller reports 1 when the run has ended).
 */
export function fractionOfFilm(durationSeconds: number, onFraction: (fraction: number) => void): (seconds: number) => void {
  let reported = 0
  return seconds => {
    const fraction = Math.min(0.999, seconds / durationSeconds)
    if (fraction > reported) onFraction((reported = fraction))
  }
}

function timemarkToSeconds(timemark: string | undefined): number | undefined {
  const match = /^(\d+):(\d+):(\d+(?:\.\d+)?)$/.exec(timemark ?? '')
  return match ? Number(match[1]) * 3600 + Number(match[2]) * 60 + Number(match[3]) : undefined
}
