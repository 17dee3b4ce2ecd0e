import type { FastifyInstance, onRequestHookHandler } from 'fastify'
import fastifyRateLimit from '@fastify/rate-limit'
import { verifyDeviceSignature } from '../identity/device-signature.ts'
import { SeedError } from '../lib/errors.ts'
import { NODES_PATH, REPORTS_PATH, type HealthReport, type SignedReport } from '../wire/monitor-protocol.ts'
import { errorAnswer } from '../http/error-handler.ts'
import type { NodeStore } from './node-store.ts'
import type { Fleet } from './fleet.ts'
import type { ReportResult } from './monitor-metrics.ts'
import { parseReport, signedReportSchema } from '../wire/report-schema.ts'
import { registryNodeSchema } from './registry.ts'
import { acceptsGzip, matchesEtag, type RegistryAnswer } from './registry-answer.ts'

/**
 * Reports one address may send a minute. A box reports every few minutes, but after an outage it
 * delivers its queue (up to 2000) back to back, and a rack of boxes may share one address; a refused
 * report stays queued on the box and is retried. What this stops is one address keeping the monitor
 * busy parsing and verifying multi-megabyte bodies.
 */
export const REPORTS_PER_MINUTE_PER_ADDRESS = 300

export interface MonitorRoutesOptions {
  store: NodeStore
  /** The registry as sent (registry-answer.ts). */
  registryAnswer(): Promise<RegistryAnswer>
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

/** What became of a well-formed, signed, admitted report: kept, or refused as a replay (with the last seq kept). */
export type ReportOutcome = { accepted: true; report: HealthReport } | { accepted: false; report: HealthReport; lastSeq: number }

/**
 * A report's checks and its keeping, the route's work without HTTP: the schema, the signature, the
 * operator's admission, then the seq, each checked before anything is kept. Throws the SeedError to
 * answer with; counts every refusal, and leaves counting an acceptance to the caller.
 */
export async function takeReport(
  opts: Pick<MonitorRoutesOptions, 'store' | 'admits' | 'onReport'>,
  signed: SignedReport
): Promise<ReportOutcome> {
  const parsed = parseReport(signed)
  if ('error' in parsed) {
    opts.onReport('malformed')
    throw new SeedError('SEED_BAD_REPORT', parsed.error)
  }
  const { report } = parsed
  if (!(await verifyDeviceSignature(report.deviceId, signed))) {
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
  if (result.accepted) return { accepted: true, report }
  opts.onReport('replayed')
  return { accepted: false, report, lastSeq: result.lastSeq }
}

/** POST reports: takeReport's checks, then 201, or the replay's answer with the last seq kept. */
function reportRoute(app: FastifyInstance, opts: MonitorRoutesOptions, reportLimit: onRequestHookHandler): void {
  app.post<{ Body: SignedReport }>(
    REPORTS_PATH,
    { schema: { body: signedReportSchema }, onRequest: reportLimit },
    async (request, reply) => {
      const outcome = await takeReport(opts, request.body)
      const { report } = outcome
      if (!outcome.accepted) {
        // the error answer with the last seq, so that the box sends its queue on from there
        const replayed = errorAnswer(
          new SeedError(
            'SEED_REPORT_REPLAYED',
            `seq ${report.seq} is not after ${outcome.lastSeq}, the last accepted from ${report.deviceId}`
          )
        )
        return await reply.code(replayed.statusCode).send({ ...replayed, lastSeq: outcome.lastSeq })
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
        response: {
          200: { type: 'object', required: ['nodes'], properties: { nodes: { type: 'array', items: registryNodeSchema } } },
          304: { description: 'unchanged since the ETag in If-None-Match', type: 'null' }
        }
      }
    },
    async (request, reply) => {
      const answer = await opts.registryAnswer()
      // no-cache: a cache (a box, a CDN) may keep the answer but asks again each time, with the ETag
      void reply.header('etag', answer.etag).header('cache-control', 'no-cache').header('vary', 'accept-encoding')
      if (matchesEtag(request.headers['if-none-match'], answer.etag)) return await reply.code(304).send()
      void reply.type('application/json; charset=utf-8')
      if (!acceptsGzip(request.headers['accept-encoding'])) return await reply.send(answer.json)
      return await reply.header('content-encoding', 'gzip').send(await answer.gzipped())
    }
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
