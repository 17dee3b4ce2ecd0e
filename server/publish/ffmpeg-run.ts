import { rm } from 'node:fs/promises'
import type ffmpeg from 'fluent-ffmpeg'
import { MediaError } from './probe.ts'

/**
 * Runs a prepared fluent-ffmpeg command to its output file. On failure the partial output is removed
 * and a MediaError names the step and ffmpeg's own reason.
 */
export function runFfmpeg(
  command: ffmpeg.FfmpegCommand,
  outFile: string,
  step: string,
  onSeconds?: (seconds: number) => void
): Promise<void> {
  return new Promise((resolve, reject) => {
    if (onSeconds) {
      command.on('progress', (progress: { timemark?: string }) => {
        const seconds = timemarkToSeconds(progress.timemark)
        if (seconds !== undefined) onSeconds(seconds)
      })
    }
    command
      .on('end', () => resolve())
      .on('error', (err: Error) => {
        const message = /Cannot find ffmpeg|ENOENT/.test(err.message)
          ? 'ffmpeg was not found on the PATH: install ffmpeg (Debian: apt-get install ffmpeg)'
          : `${step} failed: ${err.message.trim().replace(/\s*\n\s*/g, ' | ')}`
        rm(outFile, { force: true }).finally(() => reject(new MediaError(message)))
      })
      .save(outFile)
  })
}

function timemarkToSeconds(timemark: string | undefined): number | undefined {
  const match = /^(\d+):(\d+):(\d+(?:\.\d+)?)$/.exec(timemark ?? '')
  return match ? Number(match[1]) * 3600 + Number(match[2]) * 60 + Number(match[3]) : undefined
}
