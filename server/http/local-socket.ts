// A daemon's local-only admin channel: a unix socket in its data directory, mode 0600, served by a
// Fastify app of its own. Only who can already read the box's data (its user, root) can open it, no
// browser can reach it, and nothing on the LAN does: the socket's mode is the owner check, so its routes
// take no session and no CSRF token. `seed-one pinning-token` (pinning/token-socket.ts) and `seed-one
// publish` while the custodian runs (publish/publish-socket.ts) talk to their daemon this way.
import { chmodSync } from 'node:fs'
import type { IncomingMessage, Server } from 'node:http'
import { rm } from 'node:fs/promises'
import path from 'node:path'
import Fastify, { type FastifyBaseLogger, type FastifyPluginAsync } from 'fastify'
import { http } from '../lib/node-http.ts'
import { RequestLogController } from '../lib/request-log.ts'
import { answerErrorsByCode } from './error-handler.ts'

/** Linux's sun_path holds 108 bytes, the closing zero among them. */
const MAX_SOCKET_PATH_BYTES = 107

export const localSocketPath = (dataDir: string, file: string): string => path.join(dataDir, file)

/** Serves `routes` on the unix socket `socket` until close(). */
export async function serveLocalSocket(opts: {
  socket: string
  log: FastifyBaseLogger
  routes: FastifyPluginAsync
}): Promise<{ close(): Promise<void> }> {
  const app = Fastify({
    loggerInstance: opts.log,
    logController: new RequestLogController(),
    forceCloseConnections: true,
    ajv: { customOptions: { removeAdditional: false, coerceTypes: false } }
  })
  answerErrorsByCode(app)
  await app.register(opts.routes)
  await app.ready()
  const { socket } = opts
  if (tooLong(socket))
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

/** The socket could not be opened: `code` says why (ENOENT, ECONNREFUSED, ENAMETOOLONG: no daemon serves it; EACCES: another user's). */
export class LocalSocketError extends Error {
  override name = 'LocalSocketError'
  readonly code: string | undefined
  constructor(socket: string, cause: NodeJS.ErrnoException) {
    super(`${socket}: ${cause.message}`, { cause })
    this.code = cause.code
  }
}

/** A path no socket can have: `serveLocalSocket` refuses to make it, so no daemon serves it. */
const tooLong = (socket: string): boolean => Buffer.byteLength(socket) > MAX_SOCKET_PATH_BYTES

/** A request to the daemon on `socket`, its answer as a stream (read it with readJson, or line by line). */
export async function askLocalSocket(socket: string, method: string, urlPath: string, body?: object): Promise<IncomingMessage> {
  if (tooLong(socket))
    throw new LocalSocketError(
      socket,
      Object.assign(new Error(`over the ${MAX_SOCKET_PATH_BYTES} bytes a unix socket's path may have`), { code: 'ENAMETOOLONG' })
    )
  return await new Promise((resolve, reject) => {
    const headers = body === undefined ? {} : { 'content-type': 'application/json' }
    const request = http.request({ socketPath: socket, method, path: urlPath, headers }, resolve)
    request.on('error', err => reject(new LocalSocketError(socket, err)))
    request.end(body === undefined ? undefined : JSON.stringify(body))
  })
}

/** An answer's status and its JSON body (undefined when it has none). */
export async function readJson(response: IncomingMessage): Promise<{ status: number; body: unknown }> {
  let text = ''
  response.setEncoding('utf8')
  for await (const chunk of response) text += chunk as string
  return { status: response.statusCode ?? 0, body: text === '' ? undefined : JSON.parse(text) }
}
