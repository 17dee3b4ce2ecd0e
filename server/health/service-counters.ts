import type { FastifyInstance } from 'fastify'

/** What the service counts about itself since it started: the health report and /metrics read these. */
export interface ServiceCounters {
  /** Film stream requests (GET) answered with bytes. */
  streamsServed: number
  /** Requests answered with a 5xx, and background failures that a part records (chain sync). */
  errors: number
}

/**
 * Counters for one daemon, counting every 5xx that `app` answers from now on. Call it right after
 * creating the app: a root hook applies only to the routes registered after it.
 */
export function createServiceCounters(app: FastifyInstance): ServiceCounters {
  const counters: ServiceCounters = { streamsServed: 0, errors: 0 }
  app.addHook('onResponse', async (_request, reply) => {
    if (reply.statusCode >= 500) counters.errors++
  })
  return counters
}
