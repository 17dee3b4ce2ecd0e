import type { FastifyBaseLogger } from 'fastify'
import { diskSpaceReason } from '../storage/disk-space.ts'
import type { FilmRecords } from './film-records.ts'

const RETRY_FIRST_MS = 5_000
const RETRY_MAX_MS = 10 * 60_000
/** A film waiting for disk space tries again this often at most: a check of the free space is cheap. */
const DISK_RETRY_MS = 10_000

export interface WorkQueue {
  /** Aborted on close: the work under way stops. */
  signal: AbortSignal
  /** Queues a film's turn (once, however often it is asked for before its turn comes). */
  schedule(tokenId: string): void
  /** Runs `fn` after `ms` (the timer does not keep the process up), unless the queue closes first. */
  later(ms: number, fn: () => void): void
  /** Stops the work, drops the timers and waits for the film being worked on. */
  close(): Promise<void>
}

export interface WorkQueueOptions {
  /** A film's turn. */
  run(tokenId: string): Promise<void>
  /** A film was scheduled: work that need not wait for its turn starts here. */
  scheduled(tokenId: string): void
  /** Where a failed turn's reason is shown. */
  records: FilmRecords
  log: FastifyBaseLogger
}

/**
 * The library's work, one film at a time so playback keeps the CPU and disk. A failed turn is shown
 * on the film and tried again after a backoff that doubles from 5 s to 10 min (10 s at most while
 * the disk is full).
 */
export function createWorkQueue(opts: WorkQueueOptions): WorkQueue {
  const { log } = opts
  const queue = new Set<string>()
  const retryDelays = new Map<string, number>()
  const timers = new Set<NodeJS.Timeout>()
  const aborter = new AbortController()
  let working: Promise<void> | undefined

  const later = (ms: number, fn: () => void): void => {
    const timer = setTimeout(() => {
      timers.delete(timer)
      fn()
    }, ms)
    timer.unref()
    timers.add(timer)
  }
  const schedule = (tokenId: string): void => {
    opts.scheduled(tokenId)
    queue.add(tokenId)
    working ??= drain().finally(() => {
      working = undefined
    })
  }

  async function failed(tokenId: string, err: unknown): Promise<void> {
    const backoff = Math.min((retryDelays.get(tokenId) ?? RETRY_FIRST_MS / 2) * 2, RETRY_MAX_MS)
    retryDelays.set(tokenId, backoff)
    const diskReason = diskSpaceReason(err)
    const delay = diskReason === undefined ? backoff : Math.min(backoff, DISK_RETRY_MS)
    const reason = diskReason ?? (err as Error).message
    log.warn({ tokenId, err: reason, retryInMs: delay }, 'film not ready yet')
    // the retry is scheduled even when the state cannot be saved
    await opts.records.saveError(tokenId, reason).catch(saveErr => {
      log.error({ tokenId, err: (saveErr as Error).message }, 'the film state could not be saved')
    })
    later(delay, () => schedule(tokenId))
  }

  async function drain(): Promise<void> {
    while (queue.size > 0 && !aborter.signal.aborted) {
      const [tokenId] = queue
      queue.delete(tokenId)
      try {
        await opts.run(tokenId)
        retryDelays.delete(tokenId)
      } catch (err) {
        if (aborter.signal.aborted) return
        await failed(tokenId, err)
      }
    }
  }

  return {
    signal: aborter.signal,
    schedule,
    later,
    async close() {
      aborter.abort()
      for (const timer of timers) clearTimeout(timer)
      await working?.catch(() => {})
    }
  }
}
