import type { FastifyInstance } from 'fastify'
import { Registry, collectDefaultMetrics } from 'prom-client'

/**
 * prom-client's default gauges named like counters: they only sum the per-type gauges beside them
 * (nodejs_active_handles…), and `promtool check metrics` refuses a gauge ending in _total.
 */
const MISNAMED_DEFAULTS = ['nodejs_active_handles_total', 'nodejs_active_requests_total', 'nodejs_active_resources_total']

/** A registry of its own (several daemons may share a process in tests) with prom-client's process metrics. */
export function createMetricsRegistry(): Registry {
  const registry = new Registry()
  collectDefaultMetrics({ register: registry })
  for (const name of MISNAMED_DEFAULTS) registry.removeSingleMetric(name)
  return registry
}

/** GET /metrics in the Prometheus text format: `refresh` brings the registry's figures up to date first. */
export function metricsRoute(app: FastifyInstance, opts: { registry: Registry; refresh(): Promise<void> }): void {
  app.get('/metrics', async (_request, reply) => {
    await opts.refresh()
    return await reply
      .type(opts.registry.contentType)
      .header('cache-control', 'no-store')
      .send(await opts.registry.metrics())
  })
}
