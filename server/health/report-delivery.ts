import type { FastifyBaseLogger } from 'fastify'
import { coalescedRuns } from '../lib/coalesced-runs.ts'
import type { QueuedReport, ReportQueue } from './report-queue.ts'

export interface ReportDeliveryOptions {
  queue: ReportQueue
  /** The monitor's base URL, without a trailing slash (for the log). */
  monitorUrl: string
  /** Where reports are posted. */
  url: string
  /** The report interval: the longest wait between two tries. */
  intervalSec: number
  /** Aborted at shutdown: ends a send in flight and any further try. */
  stopping: AbortSignal
  log: FastifyBaseLogger
}

export interface ReportDelivery {
  /** Sends the queue now, or once more after the drain under way. */
  deliver(): Promise<void>
  /** Reports the monitor acknowledged since start, and why the last delivery failed (null once one succeeds). */
  stats(): { delivered: number; lastError: string | null }
  /** Cancels the next try and waits for the drain under way (after `stopping` was aborted). */
  close(): Promise<void>
}

const SEND_TIMEOUT_MS = 30_000
const FIRST_RETRY_MS = 5_000
/** Reports sent per queue read while catching up. */
const BATCH = 32

type Outcome = { kind: 'delivered' } | { kind: 'known'; lastSeq: number | undefined } | { kind: 'failed'; reason: string }

/**
 * Delivers the queue to the monitor in seq order. A report leaves the queue only once the monitor has
 * it (201, or 409 for a seq it accepted before: sent before a crash), so none is lost and none is
 * counted twice. One drain at a time; a report queued during a drain makes it run once more. After a
 * failure the next try waits, doubling from FIRST_RETRY_MS up to the report interval.
 */
export function createReportDelivery(opts: ReportDeliveryOptions): ReportDelivery {
  const { queue, stopping, log } = opts
  const stats = { delivered: 0, lastError: null as string | null }
  let retryTimer: NodeJS.Timeout | undefined
  let retryMs = FIRST_RETRY_MS

  /** Sends the queue oldest first, up to the first failure: true when the queue was emptied. */
  const drain = async (): Promise<boolean> => {
    for (;;) {
      const batch = await queue.oldest(BATCH)
      if (batch.length === 0) return true
      for (const queued of batch) {
        if (stopping.aborted) return false
        const outcome = await send(opts.url, queued, stopping)
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

  const drains = coalescedRuns(async () => {
    const emptied = await drain().catch(err => {
      log.error({ err: (err as Error).message }, 'health report queue could not be read')
      return false
    })
    if (emptied || stopping.aborted) return emptied && !stopping.aborted
    retryTimer = setTimeout(() => void deliver(), retryMs)
    retryMs = Math.min(retryMs * 2, Math.max(FIRST_RETRY_MS, opts.intervalSec * 1000))
    return false
  })
  const deliver = (): Promise<void> => {
    clearTimeout(retryTimer)
    if (stopping.aborted) return Promise.resolve()
    return drains.request()
  }

  return {
    deliver,
    stats: () => ({ ...stats }),
    async close() {
      clearTimeout(retryTimer)
      await drains.settled()
    }
  }
}

async function send(url: string, { signed }: QueuedReport, stopping: AbortSignal): Promise<Outcome> {
  let response: Response
  try {
    response = await fetch(url, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify(signed),
      signal: AbortSignal.any([stopping, AbortSignal.timeout(SEND_TIMEOUT_MS)])
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
