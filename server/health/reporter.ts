import { createHash } from 'node:crypto'
import cron, { type ScheduledTask } from 'node-cron'
import type { FastifyBaseLogger } from 'fastify'
import type { StateDb } from '../storage/state-db.ts'
import type { DeviceIdentity } from '../identity/device-identity.ts'
import { signPayload } from '../identity/device-signature.ts'
import { REPORTS_PATH, type HealthReport } from '../wire/monitor-protocol.ts'
import type { HealthFigures } from './health-figures.ts'
import { openReportQueue } from './report-queue.ts'
import { createReportDelivery } from './report-delivery.ts'
import { cronEvery } from '../lib/cron-interval.ts'
import { createEarlyReport } from './early-report.ts'

export interface ReporterOptions {
  db: StateDb
  identity: DeviceIdentity
  /** The monitor's base URL, without a trailing slash. */
  monitorUrl: string
  intervalSec: number
  /** Who the box is, as each report names it. */
  describe(): Pick<HealthReport, 'version' | 'roles' | 'apiUrl' | 'multiaddrs' | 'lan'>
  collect(): Promise<HealthFigures>
  log: FastifyBaseLogger
  /** Reports kept while the monitor is unreachable; beyond it the oldest are dropped (default 2000: a week at 5 min). */
  maxQueued?: number
  /** How soon a change is reported, and how far apart early reports keep (default EARLY_DELAY_MS, EARLY_MIN_GAP_MS). */
  early?: { delayMs: number; minGapMs: number }
}

export interface ReporterStats {
  queued: number
  /** Reports made since start. */
  made: number
  /** Reports the monitor acknowledged since start (201, or 409: it had them already). */
  delivered: number
  /** Reports dropped unsent since start because the queue was full. */
  dropped: number
  /** Why the last delivery failed; null once one succeeds. */
  lastError: string | null
}

export interface Reporter {
  /** Makes, queues and tries to deliver one report now: its seq. */
  reportNow(): Promise<number>
  /** What the reports say changed (a pin): a report follows within seconds, at most one per EARLY_MIN_GAP_MS. */
  reportSoon(): void
  stats(): ReporterStats
  close(): Promise<void>
}

const DEFAULT_MAX_QUEUED = 2000
/** A replica's pins come in bursts (a film's parts one after the other): 2 s gathers one in a report. */
const EARLY_DELAY_MS = 2_000
/** At most one early report per 10 s: a rack of 100 nodes then sends the monitor at most 10 a second. */
const EARLY_MIN_GAP_MS = 10_000

/**
 * Every intervalSec (node-cron, shifted per device so a rack does not report in the same second) and
 * once at start: collect the figures, sign them into the next report, queue it on disk, deliver the
 * queue to the monitor (report-delivery.ts); while the monitor is unreachable, delivery is retried
 * with backoff up to the interval. A change (reportSoon) brings the next report forward (early-report.ts).
 */
export async function startReporter(opts: ReporterOptions): Promise<Reporter> {
  const { identity, log } = opts
  const queue = await openReportQueue(opts.db, opts.maxQueued ?? DEFAULT_MAX_QUEUED)
  const stopping = new AbortController()
  const url = `${opts.monitorUrl}${REPORTS_PATH}`
  const delivery = createReportDelivery({ ...opts, queue, url, stopping: stopping.signal })
  const stats = { made: 0, dropped: 0 }
  let errorsAtLastReport = 0

  const report = async (): Promise<number> => {
    const figures = await opts.collect()
    const { errorsTotal, ...service } = figures.service
    const { seq, dropped } = await queue.add(async (seq, timestamp) => {
      const report: HealthReport = {
        deviceId: identity.deviceId,
        seq,
        timestamp,
        ...opts.describe(),
        uptimeSec: figures.uptimeSec,
        system: figures.system,
        storage: figures.storage,
        replication: figures.replication,
        // left out when there is none: such a report is what a monitor of an older release takes
        ...(figures.rest.length > 0 ? { rest: figures.rest } : {}),
        service: { ...service, errorsSinceLastReport: errorsTotal - errorsAtLastReport }
      }
      return await signPayload(identity, report)
    })
    errorsAtLastReport = errorsTotal
    stats.made++
    if (dropped > 0) {
      stats.dropped += dropped
      log.warn({ dropped, kept: queue.size() }, 'health report queue full: dropped the oldest unsent reports')
    }
    void delivery.deliver()
    return seq
  }

  let reporting: Promise<unknown> = Promise.resolve()
  const tick = (): void => {
    early.reported()
    reporting = report().catch(err => log.error({ err: (err as Error).message }, 'could not make a health report'))
  }
  const early = createEarlyReport({
    delayMs: opts.early?.delayMs ?? EARLY_DELAY_MS,
    minGapMs: opts.early?.minGapMs ?? EARLY_MIN_GAP_MS,
    report: async () => {
      // after the report under way (a scheduled one), so the two never race for a seq
      await reporting
      tick()
    }
  })
  const task: ScheduledTask = cron.schedule(cronEvery(opts.intervalSec, offsetOf(identity.deviceId, opts.intervalSec)), tick, {
    name: `health-report-${identity.deviceId}`,
    noOverlap: true
  })
  tick()

  return {
    reportNow: report,
    reportSoon: early.request,
    stats: () => {
      const { delivered, lastError } = delivery.stats()
      return { queued: queue.size(), made: stats.made, delivered, dropped: stats.dropped, lastError }
    },
    close: async () => {
      await task.destroy()
      early.close()
      stopping.abort()
      await reporting
      await delivery.close()
    }
  }
}

/** A per-device shift of the schedule within the interval, the same at every start. */
function offsetOf(deviceId: string, intervalSec: number): number {
  return createHash('sha256').update(deviceId).digest().readUInt32BE(0) % intervalSec
}
