// One update at a time per install root. The lock is a listening socket in Linux's abstract namespace:
// the kernel frees it when its process ends, kill -9 included, so a crashed updater never leaves a
// stale lock, and "is the updater that wrote pending.json still alive?" is answered by trying to take it.
import { createHash } from 'node:crypto'
import { createServer } from 'node:net'
import { realpath } from 'node:fs/promises'

export interface UpdateLock {
  release(): Promise<void>
}

/** Takes the install root's update lock, or returns undefined while another process holds it. */
export async function takeUpdateLock(root: string): Promise<UpdateLock | undefined> {
  const name = createHash('sha256')
    .update(await realpath(root))
    .digest('hex')
    .slice(0, 32)
  const server = createServer()
  const taken = await new Promise<boolean>((resolve, reject) => {
    server.once('error', err => ((err as NodeJS.ErrnoException).code === 'EADDRINUSE' ? resolve(false) : reject(err)))
    server.listen({ path: `\0seed-one-update-${name}` }, () => resolve(true))
  })
  if (!taken) return undefined
  server.unref()
  return { release: async () => await new Promise<void>(resolve => server.close(() => resolve())) }
}
