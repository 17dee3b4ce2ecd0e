// A port checked before a start creates anything, so that "it is taken" is said at once, naming the
// port the user chose and the flag that changes it, and no half-made data directory is left behind.
import { createServer } from 'node:net'

export class PortInUseError extends Error {
  override name = 'PortInUseError'
}

/** What a port in use is said to be: the flag that sets it, and how it derives from it if it does. */
export interface PortOwner {
  /** e.g. `--port`, `--p2p-listen`. */
  flag: string
  /** e.g. "the demo's custodian, at --port + 1"; unset: the port is the flag's own value. */
  role?: string
}

/** The message of a port in use: the port, the address, and what to do about it. */
export function portInUseMessage(host: string, port: number, owner: PortOwner): string {
  const what = owner.role === undefined ? `port ${port}` : `port ${port} (${owner.role})`
  return `${what} on ${host} is in use by another program (another seed-one?): choose another with ${owner.flag}, or stop what holds it`
}

/** Throws a PortInUseError when `port` on `host` cannot be listened on now; port 0 (any free port) is always free. */
export async function assertPortFree(host: string, port: number, owner: PortOwner): Promise<void> {
  if (port === 0) return
  const server = createServer()
  try {
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject)
      server.listen({ host, port, exclusive: true }, resolve)
    })
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'EADDRINUSE') throw new PortInUseError(portInUseMessage(host, port, owner), { cause: err })
    throw err
  } finally {
    await new Promise(resolve => server.close(resolve))
  }
}
