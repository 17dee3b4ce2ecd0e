import type { ServerResponse } from 'node:http'
import type { FastifyInstance } from 'fastify'
import { SeedError } from '../lib/errors.ts'
import type { LibraryChanges } from './library-changes.ts'

/** Each listening screen holds a connection open: a handful of TVs and phones is the most a home has. */
export const MAX_LISTENERS = 32
/** Listeners one client address may hold (a screen with a few tabs), so one guest cannot take every place from the TV. */
export const MAX_LISTENERS_PER_ADDRESS = 4
/** A comment this often keeps the connection open through idle timeouts and finds screens that went away. */
const KEEP_ALIVE_MS = 25_000

/**
 * GET /api/library/events: server-sent events, one `change` each time the library view changed (a
 * purchase, a sale, a film's state, the chain sync failing or recovering). Screens read
 * GET /api/library again when they hear one; it is as open as that route, and says nothing more.
 */
export async function libraryEventsRoute(app: FastifyInstance, opts: { changes: LibraryChanges }): Promise<void> {
  const listening = new Set<ServerResponse>()
  const perAddress = new Map<string, number>()
  // closing the server waits for open connections: the streams end first
  app.addHook('preClose', async () => {
    for (const res of listening) res.end()
  })

  app.get(
    '/api/library/events',
    {
      exposeHeadRoute: false, // a HEAD would be held open like the stream
      schema: { description: 'Server-sent events (text/event-stream): `change` whenever GET /api/library would answer differently.' }
    },
    async (request, reply) => {
      const address = request.ip
      const held = perAddress.get(address) ?? 0
      if (held >= MAX_LISTENERS_PER_ADDRESS) {
        throw new SeedError(
          'SEED_RATE_LIMITED',
          `this address already follows this library on ${MAX_LISTENERS_PER_ADDRESS} connections; close one (another tab or page), or rely on polling GET /api/library`
        )
      }
      if (listening.size >= MAX_LISTENERS) {
        throw new SeedError(
          'SEED_TOO_MANY_LISTENERS',
          `${MAX_LISTENERS} screens already follow this library; close one, or rely on polling GET /api/library`
        )
      }
      reply.hijack()
      const res = reply.raw
      res.writeHead(200, { 'content-type': 'text/event-stream; charset=utf-8', 'cache-control': 'no-store' })
      res.write('retry: 5000\n\n')
      const unsubscribe = opts.changes.subscribe(() => res.write('event: change\ndata: library\n\n'))
      const keepAlive = setInterval(() => res.write(': keep-alive\n\n'), KEEP_ALIVE_MS).unref()
      listening.add(res)
      perAddress.set(address, held + 1)
      res.on('close', () => {
        unsubscribe()
        clearInterval(keepAlive)
        listening.delete(res)
        const left = (perAddress.get(address) ?? 1) - 1
        if (left > 0) perAddress.set(address, left)
        else perAddress.delete(address)
      })
      return reply
    }
  )
}
