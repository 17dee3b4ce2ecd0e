// The owner's way to make, list and revoke pinning tokens where no owner signs in: a creator's rack runs
// `--role storage` without a player, so it has no owner session. The token routes are served there on the
// data directory's local socket (http/local-socket.ts: mode 0600, never over TCP). `seed-one pinning-token`
// (token-command.ts) is its client.
import type { FastifyBaseLogger } from 'fastify'
import { localSocketPath, serveLocalSocket } from '../http/local-socket.ts'
import type { PinningTokens } from './tokens.ts'
import { pinningTokenRoutes } from './token-routes.ts'

/** The socket's name in the data directory. */
export const TOKEN_SOCKET_FILE = 'pinning-tokens.sock'

export const tokenSocketPath = (dataDir: string): string => localSocketPath(dataDir, TOKEN_SOCKET_FILE)

/** Serves the token routes on the data directory's socket until close(). */
export async function serveTokenSocket(opts: {
  dataDir: string
  tokens: PinningTokens
  log: FastifyBaseLogger
}): Promise<{ close(): Promise<void> }> {
  return await serveLocalSocket({
    socket: tokenSocketPath(opts.dataDir),
    log: opts.log,
    // no session, no CSRF token: the socket's mode is the owner check, and no browser can reach a unix socket
    routes: async app => await app.register(pinningTokenRoutes, { tokens: opts.tokens, guards: { read: [], write: [] } })
  })
}
