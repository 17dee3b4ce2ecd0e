// Every ffmpeg run that fluent-ffmpeg starts in this process, as /usr/bin/time logged it: what it cost
// and its command line. The real ffmpeg runs; a shell script set as fluent-ffmpeg's ffmpeg path runs it
// under /usr/bin/time, which appends a line to a log per run.
import { chmod, readFile, writeFile } from 'node:fs/promises'
import path from 'node:path'
import ffmpeg from 'fluent-ffmpeg'

/** An ffmpeg run: user + system CPU seconds, wall seconds, and its arguments. */
export interface FfmpegRun {
  cpu: number
  wall: number
  /** The command line split at spaces (an argument with a space in it comes as several). */
  args: string[]
}

/** Makes fluent-ffmpeg run every ffmpeg under /usr/bin/time, logging in `dir`; returns a reader of the runs so far. */
export async function logEveryFfmpeg(dir: string): Promise<() => Promise<FfmpegRun[]>> {
  const [wrapper, log] = [path.join(dir, 'timed-ffmpeg'), path.join(dir, 'ffmpeg-times.log')]
  await writeFile(wrapper, `#!/bin/sh\nexec /usr/bin/time -a -o '${log}' -f '%U %S %e %C' ffmpeg "$@"\n`)
  await chmod(wrapper, 0o755)
  ffmpeg.setFfmpegPath(wrapper)
  return async () =>
    (await readFile(log, 'utf8').catch(() => ''))
      .split('\n')
      .filter(line => /^[\d.]+ [\d.]+ [\d.]+ /.test(line)) // not time's "Command exited with non-zero status" lines
      .map(line => {
        const [user, sys, wall, ...command] = line.split(' ')
        return { cpu: Number(user) + Number(sys), wall: Number(wall), args: command.slice(1) }
      })
}
