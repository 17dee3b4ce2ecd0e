import type { Server } from 'node:http'
import type { FastifyReply, FastifyRequest } from 'fastify'

// Per HTTP server, so that several daemons in one process (the tests) each count their own.
const active = new WeakMap<Server, number>()

/** Counts a film stream as active on its daemon until its response closes. */
export function countActiveStream(request: FastifyRequest, reply: FastifyReply): void {
  const server = request.server.server
  active.set(server, (active.get(server) ?? 0) + 1)
  reply.raw.once('close', () => active.set(server, (active.get(server) ?? 1) - 1))
}

/** Film streams the daemon on `server` is sending to its own screens now. */
export function activeStreams(server: Server): number {
  return active.get(server) ?? 0
}
