import { createHash } from 'node:crypto'
import cron, { type ScheduledTask } from 'node-cron'
import type { FastifyBaseLogger } from 'fastify'
import type { StateDb } from '../storage/state-db.ts'
import type { DeviceIdentity } from '../identity/device-identity.ts'
import { signPayload } from '../identity/device-signature.ts'
import { REPORTS_PATH, type HealthReport } from '../monitor/protocol.ts'
import type { HealthFigures } from './health-figures.ts'
import { openReportQueue, type QueuedReport } from './report-queue.ts'
import { cronEvery } from './cron-interval.ts'

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
  stats(): ReporterStats
  close(): Promise<void>
}

const DEFAULT_MAX_QUEUED = 2000
const SEND_TIMEOUT_MS = 30_000
const FIRST_RETRY_MS = 5_000
/** Reports sent per queue read while catching up. */
const BATCH = 32

type Outcome = { kind: 'delivered' } | { kind: 'known'; lastSeq: number | undefined } | { kind: 'failed'; reason: string }

/**
 * Every intervalSec (node-cron, shifted per device so a rack does not report in the same second) and
 * once at start: collect the figures, sign them into the next report, queue it on disk, deliver the
 * queue to the monitor in seq order. A report leaves the queue only once the monitor has it (201, or
 * 409 for a seq it accepted before: sent before a crash), so none is lost and none is counted twice;
 * while the monitor is unreachable, delivery is retried with backoff up to the interval.
 */
export async function startReporter(opts: ReporterOptions): Promise<Reporter> {
  const { identity, log } = opts
  const queue = await openReportQueue(opts.db, opts.maxQueued ?? DEFAULT_MAX_QUEUED)
  const url = `${opts.monitorUrl}${REPORTS_PATH}`
  const stopping = new AbortController()
  const stats = { made: 0, delivered: 0, dropped: 0, lastError: null as string | null }
  let errorsAtLastReport = 0
  let retryTimer: NodeJS.Timeout | undefined
  let retryMs = FIRST_RETRY_MS

  const send = async ({ signed }: QueuedReport): Promise<Outcome> => {
    let response: Response
    try {
      response = await fetch(url, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify(signed),
        signal: AbortSignal.any([stopping.signal, AbortSignal.timeout(SEND_TIMEOUT_MS)])
      })
    } catch (err) {
      const cause = (err as Error).cause as Error | undefined
      return { kind: 'failed', reason: `monitor unreachable: ${cause?.message ?? (err as Error).message}` }
    }
    const body = (await response.json().catch(() => ({}))) as { lastSeq?: unknown; message?: unknown }
    if (response.status === 201) return { kind: 'delivered' }
    if (response.status === 409) return { kind: 'known', lastSeq: typeof body.lastSeq === 'number' ? body.lastSeq : undefined }
    return { kind: 'failed', reason: `monitor answered ${response.status}${typeof body.message === 'string' ? `: ${body.message}` : ''}` }
  }

  /** Sends the queue oldest first, up to the first failure: true when the queue was emptied. */
  const drain = async (): Promise<boolean> => {
    for (;;) {
      const batch = await queue.oldest(BATCH)
      if (batch.length === 0) return true
      for (const queued of batch) {
        if (stopping.signal.aborted) return false
        const outcome = await send(queued)
        if (outcome.kind === 'failed') {
          if (stats.lastError === null)
            log.warn({ monitor: opts.monitorUrl, queued: queue.size() }, `health reports queue: ${outcome.reason}`)
          stats.lastError = outcome.reason
          return false
        }
        if (outcome.kind === 'known' && outcome.lastSeq !== undefined) await queue.skipPast(outcome.lastSeq)
        await queue.remove(queued.seq)
        stats.delivered++
        if (stats.lastError !== null) log.info({ monitor: opts.monitorUrl }, 'health reports reach the monitor again')
        stats.lastError = null
        retryMs = FIRST_RETRY_MS
      }
    }
  }

  // One drain at a time; a report queued during a drain makes it run once more. After a failure the
  // next try waits, doubling from FIRST_RETRY_MS up to the report interval.
  let draining: Promise<void> | undefined
  let again = false
  const deliver = (): Promise<void> => {
    clearTimeout(retryTimer)
    if (stopping.signal.aborted) return Promise.resolve()
    if (draining !== undefined) {
      again = true
      return draining
    }
    draining = (async () => {
      let emptied: boolean
      do {
        again = false
        emptied = await drain().catch(err => {
          log.error({ err: (err as Error).message }, 'health report queue could not be read')
          return false
        })
      } while (again && emptied && !stopping.signal.aborted)
      if (emptied || stopping.signal.aborted) return
      retryTimer = setTimeout(() => void deliver(), retryMs)
      retryMs = Math.min(retryMs * 2, Math.max(FIRST_RETRY_MS, opts.intervalSec * 1000))
    })().finally(() => {
      draining = undefined
    })
    return draining
  }

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
    void deliver()
    return seq
  }

  let reporting: Promise<unknown> = Promise.resolve()
  const tick = (): void => {
    reporting = report().catch(err => log.error({ err: (err as Error).message }, 'could not make a health report'))
  }
  const task: ScheduledTask = cron.schedule(cronEvery(opts.intervalSec, offsetOf(identity.deviceId, opts.intervalSec)), tick, {
    name: `health-report-${identity.deviceId}`,
    noOverlap: true
  })
  tick()

  return {
    reportNow: report,
    stats: () => ({ queued: queue.size(), ...stats }),
    close: async () => {
      await task.destroy()
      stopping.abort()
      clearTimeout(retryTimer)
      await reporting
      await draining
    }
  }
}

/** A per-device shift of the schedule within the interval, the same at every start. */
function offsetOf(deviceId: string, intervalSec: number): number {
  return createHash('sha256').update(deviceId).digest().readUInt32BE(0) % intervalSec
}
