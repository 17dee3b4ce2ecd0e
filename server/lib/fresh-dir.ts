// A first start that fails leaves nothing behind: no half-made data directory with new keys that a
// second start, with the mistake fixed, would take for a box that exists.
import { readdir, rm } from 'node:fs/promises'
import path from 'node:path'

/**
 * Runs `work`, which may create `dir`; when `dir` was absent or empty before and `work` fails, what
 * it made in `dir` is removed (and `dir` itself if it was absent: an empty one may be a mount point).
 * A directory that held anything is never touched: it is a box's, and its failure is not this start's to undo.
 */
export async function undoneIfFailed<T>(dir: string, work: () => Promise<T>): Promise<T> {
  const before = await entries(dir)
  try {
    return await work()
  } catch (err) {
    if (before === undefined) await rm(dir, { recursive: true, force: true })
    else if (before.length === 0)
      for (const name of (await entries(dir)) ?? []) await rm(path.join(dir, name), { recursive: true, force: true })
    throw err
  }
}

/** The names in `dir`, or undefined when it does not exist. */
async function entries(dir: string): Promise<string[] | undefined> {
  try {
    return await readdir(dir)
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined
    throw err
  }
}
