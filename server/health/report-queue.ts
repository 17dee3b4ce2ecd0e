import { writeBatch, type StateDb } from '../storage/state-db.ts'
import type { SignedReport } from '../wire/monitor-protocol.ts'

declare module '../storage/state-db.ts' {
  interface StateSchema {
    reports: { issued: Issued; [seq: `q!${string}`]: SignedReport }
  }
}

/** A report waiting for the monitor's 201 (or 409: it had it already). */
export interface QueuedReport {
  seq: number
  signed: SignedReport
}

/** The last seq and time given out: both only ever increase, across restarts. */
interface Issued {
  seq: number
  timestampMs: number
}

export interface ReportQueue {
  /**
   * Makes the next report with a seq and a timestamp strictly after the last ones given out, and
   * queues it on disk (synced) in the same write that records them. Beyond the bound, the oldest
   * reports are dropped: their number is returned.
   */
  add(make: (seq: number, timestamp: string) => Promise<SignedReport>): Promise<{ seq: number; dropped: number }>
  /** The oldest queued reports, at most `limit`, in seq order. */
  oldest(limit: number): Promise<QueuedReport[]>
  remove(seq: number): Promise<void>
  /** Gives out seqs after `seq` from now on (the monitor has accepted up to it: a restored data directory). */
  skipPast(seq: number): Promise<void>
  size(): number
}

const ISSUED_KEY = 'issued'
const QUEUE_PREFIX = 'q!'
/** Every queued key sorts before this one ('"' follows '!'). */
const QUEUE_END = 'q"'
/** Zero-padded so that keys sort in seq order. */
const queueKey = (seq: number): string => `${QUEUE_PREFIX}${String(seq).padStart(16, '0')}`

/**
 * The reports not yet delivered, in the state database's 'reports' section. It uses the sublevel
 * directly (not section()) for ordered, bounded reads and for writes that change several keys at once.
 */
export async function openReportQueue(db: StateDb, maxQueued: number): Promise<ReportQueue> {
  const sub = db.sublevel<string, unknown>('reports', { valueEncoding: 'json' })
  const queued = { gte: QUEUE_PREFIX, lt: QUEUE_END }
  let size = (await sub.keys(queued).all()).length
  const issued = async (): Promise<Issued> => ((await sub.get(ISSUED_KEY)) as Issued | undefined) ?? { seq: 0, timestampMs: 0 }
  // Each change reads before it writes (the issued seq, the queue's size): one at a time.
  let turn: Promise<unknown> = Promise.resolve()
  const serial = <T>(step: () => Promise<T>): Promise<T> => {
    const result = turn.then(step)
    turn = result.catch(() => {})
    return result
  }

  return {
    add: make =>
      serial(async () => {
        const last = await issued()
        const next: Issued = { seq: last.seq + 1, timestampMs: Math.max(Date.now(), last.timestampMs + 1) }
        const signed = await make(next.seq, new Date(next.timestampMs).toISOString())
        const overflow = Math.max(0, size + 1 - maxQueued)
        const dropKeys = overflow === 0 ? [] : await sub.keys({ ...queued, limit: overflow }).all()
        await writeBatch(db, [
          { type: 'put', sublevel: sub, key: queueKey(next.seq), value: signed },
          { type: 'put', sublevel: sub, key: ISSUED_KEY, value: next },
          ...dropKeys.map(key => ({ type: 'del' as const, sublevel: sub, key }))
        ])
        size += 1 - dropKeys.length
        return { seq: next.seq, dropped: dropKeys.length }
      }),
    oldest: async limit => {
      const entries = await sub.iterator({ ...queued, limit }).all()
      return entries.map(([key, signed]) => ({ seq: Number(key.slice(QUEUE_PREFIX.length)), signed: signed as SignedReport }))
    },
    remove: seq =>
      serial(async () => {
        const key = queueKey(seq)
        if ((await sub.get(key)) === undefined) return // dropped meanwhile
        await writeBatch(db, [{ type: 'del', sublevel: sub, key }])
        size--
      }),
    skipPast: seq =>
      serial(async () => {
        const last = await issued()
        if (last.seq >= seq) return
        await writeBatch(db, [{ type: 'put', sublevel: sub, key: ISSUED_KEY, value: { ...last, seq } }])
      }),
    size: () => size
  }
}
