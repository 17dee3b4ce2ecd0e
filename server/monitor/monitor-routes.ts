import type { FastifyInstance, onRequestHookHandler } from 'fastify'
import fastifyRateLimit from '@fastify/rate-limit'
import { verifyDeviceSignature } from '../identity/device-signature.ts'
import { SeedError } from '../lib/errors.ts'
import { NODES_PATH, REPORTS_PATH, type HealthReport, type RegistryNode, type SignedReport } from '../wire/monitor-protocol.ts'
import { errorAnswer } from '../http/error-handler.ts'
import type { NodeStore } from './node-store.ts'
import type { Fleet } from './fleet.ts'
import type { ReportResult } from './monitor-metrics.ts'
import { parseReport, signedReportSchema } from '../wire/report-schema.ts'
import { registryNodeSchema } from './registry.ts'

/**
 * Reports one address may send a minute. A box reports every few minutes, but after an outage it
 * delivers its queue (up to 2000) back to back, and a rack of boxes may share one address; a refused
 * report stays queued on the box and is retried. What this stops is one address keeping the monitor
 * busy parsing and verifying multi-megabyte bodies.
 */
export const REPORTS_PER_MINUTE_PER_ADDRESS = 300

export interface MonitorRoutesOptions {
  store: NodeStore
  registry(): Promise<RegistryNode[]>
  /** Whether the network's operator admits the device (admission.ts). */
  admits(deviceId: string): Promise<boolean>
  fleet(): Promise<Fleet>
  /** `sourceIp`: the address an accepted report came from, as this server sees it. */
  onReport(result: ReportResult, report?: HealthReport, sourceIp?: string): void
}

/**
 * The monitor's API: reports in (signature, then seq, checked before anything is kept), the node
 * registry, one node's report history, and the fleet view the dashboard draws.
 */
export async function monitorRoutes(app: FastifyInstance, opts: MonitorRoutesOptions): Promise<void> {
  await app.register(fastifyRateLimit, { global: false })
  // onRequest: refused before the body is read
  const reportLimit = app.rateLimit({
    max: REPORTS_PER_MINUTE_PER_ADDRESS,
    timeWindow: 60_000,
    errorResponseBuilder: (_request, context) =>
      new SeedError('SEED_RATE_LIMITED', `too many reports from this address (${context.max} a minute): retry in ${context.after}`)
  })
  reportRoute(app, opts, reportLimit)
  registryRoutes(app, opts)
}

/** POST reports: the signature, the operator's admission, then the seq, each checked before anything is kept. */
function reportRoute(app: FastifyInstance, opts: MonitorRoutesOptions, reportLimit: onRequestHookHandler): void {
  app.post<{ Body: SignedReport }>(
    REPORTS_PATH,
    { schema: { body: signedReportSchema }, onRequest: reportLimit },
    async (request, reply) => {
      const parsed = parseReport(request.body)
      if ('error' in parsed) {
        opts.onReport('malformed')
        throw new SeedError('SEED_BAD_REPORT', parsed.error)
      }
      const { report } = parsed
      if (!(await verifyDeviceSignature(report.deviceId, request.body))) {
        opts.onReport('forged')
        throw new SeedError('SEED_BAD_SIGNATURE', `the signature is not ${report.deviceId}'s`)
      }
      if (!(await opts.admits(report.deviceId))) {
        opts.onReport('refused')
        throw new SeedError(
          'SEED_NOT_ADMITTED',
          `device ${report.deviceId} is not admitted by this monitor: its operator lists the device ids it takes reports from`
        )
      }
      const result = await opts.store.accept(report, new Date())
      if (!result.accepted) {
        opts.onReport('replayed')
        // the error answer with the last seq, so that the box sends its queue on from there
        const replayed = errorAnswer(
          new SeedError(
            'SEED_REPORT_REPLAYED',
            `seq ${report.seq} is not after ${result.lastSeq}, the last accepted from ${report.deviceId}`
          )
        )
        return await reply.code(replayed.statusCode).send({ ...replayed, lastSeq: result.lastSeq })
      }
      opts.onReport('accepted', report, request.ip)
      return await reply.code(201).send({ seq: report.seq })
    }
  )
}

/** What the monitor knows: the node registry, one node's report history, and the fleet view the dashboard draws. */
function registryRoutes(app: FastifyInstance, opts: MonitorRoutesOptions): void {
  const { store } = opts

  app.get(
    NODES_PATH,
    {
      schema: {
        response: { 200: { type: 'object', required: ['nodes'], properties: { nodes: { type: 'array', items: registryNodeSchema } } } }
      }
    },
    async () => ({ nodes: await opts.registry() })
  )

  app.get<{ Params: { deviceId: string }; Querystring: { limit?: string } }>(
    `${NODES_PATH}/:deviceId/reports`,
    {
      schema: {
        params: {
          type: 'object',
          required: ['deviceId'],
          properties: { deviceId: { type: 'string', pattern: '^[1-9A-HJ-NP-Za-km-z]{40,60}$' } }
        },
        querystring: {
          type: 'object',
          additionalProperties: false,
          properties: { limit: { type: 'string', pattern: '^[1-9][0-9]{0,2}$' } }
        }
      }
    },
    async request => {
      if ((await store.node(request.params.deviceId)) === undefined)
        throw new SeedError('SEED_NODE_NOT_FOUND', `no node ${request.params.deviceId} has reported`)
      return { reports: await store.history(request.params.deviceId, Number(request.query.limit ?? 100)) }
    }
  )

  app.get('/api/fleet', async () => await opts.fleet())
}
