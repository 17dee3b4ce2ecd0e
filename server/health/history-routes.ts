import type { FastifyInstance } from 'fastify'
import type { HealthHistory } from './history.ts'
import type { SystemStats } from '../wire/monitor-protocol.ts'

const number = { type: 'number' } as const
const nullableNumber = { type: ['number', 'null'] } as const
const object = (properties: Record<string, object>) => ({ type: 'object', required: Object.keys(properties), properties }) as const

/** JSON schema of SystemStats (system-stats.ts). */
const systemStatsSchema = object({
  at: { type: 'string' },
  cpu: object({ loadPercent: number, load1: number, cores: number, temperatureC: nullableNumber, throttled: nullableNumber }),
  memory: object({ totalBytes: number, usedBytes: number, availableBytes: number }),
  disk: object({ totalBytes: number, usedBytes: number, freeBytes: number }),
  network: object({ rxBytes: number, txBytes: number })
})

/** GET /api/health/history: the last day's samples, oldest first. */
export interface HealthHistoryView {
  samples: SystemStats[]
}

/** GET /api/health/history. Read-only, so guests may see it. */
export async function healthHistoryRoutes(app: FastifyInstance, opts: { history: HealthHistory }): Promise<void> {
  app.get(
    '/api/health/history',
    {
      schema: {
        response: { 200: { type: 'object', required: ['samples'], properties: { samples: { type: 'array', items: systemStatsSchema } } } }
      }
    },
    async (): Promise<HealthHistoryView> => ({ samples: await opts.history.samples() })
  )
}
