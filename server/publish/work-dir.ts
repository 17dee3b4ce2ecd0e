import { mkdtemp, readdir, rm } from 'node:fs/promises'
import os from 'node:os'
import path from 'node:path'

const PREFIX = 'seed-one-publish-'

/** Whether a process with this id runs (EPERM: it does, as another user). */
function alive(pid: number): boolean {
  try {
    process.kill(pid, 0)
    return true
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM'
  }
}

/**
 * Removes the work directories of runs that died without removing them (kill -9, power cut): their
 * names carry the process id. Best effort: one that belongs to another user stays.
 */
export async function removeAbandonedWorkDirs(): Promise<void> {
  const tmp = os.tmpdir()
  for (const name of await readdir(tmp)) {
    const match = new RegExp(`^${PREFIX}(\\d+)-`).exec(name)
    if (match === null || Number(match[1]) === process.pid || alive(Number(match[1]))) continue
    await rm(path.join(tmp, name), { recursive: true, force: true }).catch(() => {})
  }
}

/**
 * Gives fn a private directory for plaintext intermediates (normalised video, poster, subtitles) and
 * removes it afterwards whatever happens. It lives under the system temp dir, never under the data dir,
 * so plaintext never reaches the blockstore's disk by accident. Its name carries the process id, so a
 * later run removes what a killed one left (removeAbandonedWorkDirs).
 */
export async function withPlaintextWorkDir<T>(fn: (dir: string) => Promise<T>): Promise<T> {
  const dir = await mkdtemp(path.join(os.tmpdir(), `${PREFIX}${process.pid}-`)) // mkdtemp makes it 0700
  try {
    return await fn(dir)
  } finally {
    await rm(dir, { recursive: true, force: true })
  }
}
