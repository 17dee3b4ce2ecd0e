// The owner's way to make, list and revoke pinning tokens where no owner signs in: a creator's rack runs
// `--role storage` without a player, so it has no owner session. The token routes are served there on a
// unix socket in the data directory, mode 0600: only who can already read the box's data (its user, root)
// can open it, and nothing on the LAN reaches it. `seed-one pinning-token` (token-command.ts) is its client.
import { chmodSync } from 'node:fs'
import type { Server } from 'node:http'
import { rm } from 'node:fs/promises'
import path from 'node:path'
import Fastify, { type FastifyBaseLogger } from 'fastify'
import { answerErrorsByCode } from '../http/error-handler.ts'
import { RequestLogController } from '../lib/request-log.ts'
import type { PinningTokens } from './tokens.ts'
import { pinningTokenRoutes } from './token-routes.ts'

/** The socket's name in the data directory. */
export const TOKEN_SOCKET_FILE = 'pinning-tokens.sock'

/** Linux's sun_path holds 108 bytes, the closing zero among them. */
const MAX_SOCKET_PATH_BYTES = 107

export const tokenSocketPath = (dataDir: string): string => path.join(dataDir, TOKEN_SOCKET_FILE)

/** Serves the token routes on the data directory's socket until close(). */
export async function serveTokenSocket(opts: {
  dataDir: string
  tokens: PinningTokens
  log: FastifyBaseLogger
}): Promise<{ close(): Promise<void> }> {
  const app = Fastify({
    loggerInstance: opts.log,
    logController: new RequestLogController(),
    forceCloseConnections: true,
    ajv: { customOptions: { removeAdditional: false, coerceTypes: false } }
  })
  answerErrorsByCode(app)
  // no session, no CSRF token: the socket's mode is the owner check, and no browser can reach a unix socket
  await app.register(pinningTokenRoutes, { tokens: opts.tokens, guards: { read: [], write: [] } })
  await app.ready()
  const socket = tokenSocketPath(opts.dataDir)
  if (Buffer.byteLength(socket) > MAX_SOCKET_PATH_BYTES)
    throw new Error(`${socket} is over the ${MAX_SOCKET_PATH_BYTES} bytes a unix socket's path may have: give the box a shorter --data-dir`)
  // one left by a daemon that was killed; two daemons never share a data directory (the state database's lock)
  await rm(socket, { force: true })
  await listenPrivately(app.server, socket)
  return {
    async close() {
      // listened to here, not by app.listen: Fastify's close leaves the server to us
      const closed = new Promise(resolve => app.server.close(resolve))
      app.server.closeAllConnections()
      await closed
      await app.close()
      await rm(socket, { force: true })
    }
  }
}

/**
 * Listens on `socket` and makes it 0600 in the same tick as it is created (the bind is synchronous), so no
 * connection is served before it is private; where the data directory is 0700 (state-db.ts makes it so,
 * the unit's StateDirectoryMode too), no other user reaches the socket even in that instant.
 */
async function listenPrivately(server: Server, socket: string): Promise<void> {
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject)
    server.listen(socket, () => {
      server.off('error', reject)
      resolve()
    })
    try {
      chmodSync(socket, 0o600)
    } catch (err) {
      // ENOENT: the bind failed, and 'error' follows
      if ((err as NodeJS.ErrnoException).code !== 'ENOENT') server.close(() => reject(err as Error))
    }
  })
}
