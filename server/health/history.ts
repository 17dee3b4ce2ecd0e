import type { FastifyBaseLogger } from 'fastify'
import { section, type SectionEntry, type StateDb } from '../storage/state-db.ts'
import { readSystemStats } from './system-stats.ts'
import type { SystemStats } from '../wire/monitor-protocol.ts'

declare module '../storage/state-db.ts' {
  interface StateSchema {
    health: { [at: `sample:${string}`]: SystemStats }
  }
}

/** The Health screen's charts: a reading of the machine every few minutes over the last day. */
export interface HealthHistory {
  /** The kept samples, oldest first. */
  samples(): Promise<SystemStats[]>
  close(): Promise<void>
}

export interface HealthHistoryOptions {
  db: StateDb
  /** The data directory: its file system is the disk the samples describe. */
  dataDir: string
  /** Between samples; the first is taken at start. */
  intervalMs?: number
  /** Samples older than this are dropped. */
  keepMs?: number
  log: FastifyBaseLogger
}

const DEFAULT_INTERVAL_MS = 5 * 60_000
const DEFAULT_KEEP_MS = 24 * 60 * 60_000
// Keys sort as their times do (toISOString is fixed width), so the section reads back in order.
const KEY_PREFIX = 'sample:'

/** Starts sampling at once and every interval after, in the 'health' section, pruned to the last `keepMs`. */
export function startHealthHistory(opts: HealthHistoryOptions): HealthHistory {
  const store = section(opts.db, 'health')
  const keepMs = opts.keepMs ?? DEFAULT_KEEP_MS
  let sampling: Promise<void> | undefined

  const kept = async (): Promise<Array<SectionEntry<'health'>>> => (await store.entries()).filter(([key]) => key.startsWith(KEY_PREFIX))

  async function sample(): Promise<void> {
    const stats = await readSystemStats(opts.dataDir)
    await store.put(`${KEY_PREFIX}${stats.at}`, stats)
    const oldest = Date.now() - keepMs
    for (const [key, old] of await kept()) {
      if (Date.parse(old.at) < oldest) await store.del(key)
    }
  }

  const tick = (): void => {
    // a sample that is slow (a busy disk) is not overlapped by the next one
    sampling ??= sample()
      .catch(err => opts.log.warn({ err: (err as Error).message }, 'could not sample the system for the health history'))
      .finally(() => {
        sampling = undefined
      })
  }
  const timer = setInterval(tick, opts.intervalMs ?? DEFAULT_INTERVAL_MS)
  timer.unref()
  tick()

  return {
    samples: async () => (await kept()).map(([, stats]) => stats).filter(stats => Date.parse(stats.at) >= Date.now() - keepMs),
    close: async () => {
      clearInterval(timer)
      await sampling
    }
  }
}
