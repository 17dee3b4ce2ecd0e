import { mkdtemp, rm } from 'node:fs/promises'
import os from 'node:os'
import path from 'node:path'

/**
 * Gives fn a private directory for plaintext intermediates (normalised video, poster, subtitles) and
 * removes it afterwards whatever happens. It lives under the system temp dir, never under the data dir,
 * so plaintext never reaches the blockstore's disk by accident.
 */
export async function withPlaintextWorkDir<T>(fn: (dir: string) => Promise<T>): Promise<T> {
  const dir = await mkdtemp(path.join(os.tmpdir(), 'seed-one-publish-')) // mkdtemp makes it 0700
  try {
    return await fn(dir)
  } finally {
    await rm(dir, { recursive: true, force: true })
  }
}
