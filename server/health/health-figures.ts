import type { Libp2p } from '@libp2p/interface'
import type { Helia } from 'helia'
import type { Provider } from 'ethers'
import type { HealthReport, RestWindow } from '../wire/monitor-protocol.ts'
import { readSystemStats } from './system-stats.ts'
import { createPinFigures } from './pin-figures.ts'
import type { ServiceCounters } from './service-counters.ts'

/** What the replicator says of itself (replicator.status()). */
export type ReplicationFigures = HealthReport['replication'] & { replicaBytes: number }

/** Every measured figure of a health report: the report adds who is speaking, its seq and time. */
export type HealthFigures = Pick<HealthReport, 'uptimeSec' | 'system' | 'storage' | 'replication'> & {
  service: Omit<HealthReport['service'], 'errorsSinceLastReport'> & { errorsTotal: number }
  /** The windows the box may be silent in (empty: none; the report then leaves `rest` out). */
  rest: RestWindow[]
}

export interface HealthSources {
  dataDir: string
  helia: Helia & { libp2p: Libp2p }
  counters: ServiceCounters
  /** The owner's quota for replicas (settings). */
  quotaBytes(): Promise<number>
  /** Blocks between the chain head and the watcher's position; null when there is no owner to follow. */
  chainSyncLag(): Promise<number | null>
  /** The replicator's figures; without one, replication is off and the box holds what it has pinned (its own library). */
  replication?: () => Promise<ReplicationFigures>
  /** The quiet hours and planned downtime to announce (rest-windows.ts); none without. */
  rest?: () => Promise<RestWindow[]>
}

/** Reads every figure once; the reporter and GET /metrics both read through it. */
export function createHealthCollector(sources: HealthSources): () => Promise<HealthFigures> {
  const pins = createPinFigures(sources.helia)
  const startedAt = Date.now()
  return async () => {
    const [system, pinned, replication, chainSyncLag, quotaBytes, rest] = await Promise.all([
      readSystemStats(sources.dataDir),
      pins(),
      sources.replication?.(),
      sources.chainSyncLag(),
      sources.quotaBytes(),
      sources.rest?.() ?? []
    ])
    // field by field: the replicator's status carries more than the report's strict schema takes
    const { enabled, held, assigned, met, missing, replicaBytes } = replication ?? {
      enabled: false,
      held: pinned.roots,
      assigned: 0,
      met: 0,
      missing: 0,
      replicaBytes: 0
    }
    return {
      uptimeSec: Math.round((Date.now() - startedAt) / 1000),
      system,
      storage: { pinsHeld: pinned.roots.length, pinnedBytes: pinned.bytes, quotaBytes, replicaBytes },
      replication: { enabled, held, assigned, met, missing },
      rest,
      service: {
        peersConnected: sources.helia.libp2p.getPeers().length,
        streamsServed: sources.counters.streamsServed,
        chainSyncLag,
        errorsTotal: sources.counters.errors
      }
    }
  }
}

/** Chain head minus the watcher's last processed block; null without a watcher, or when the chain does not answer. */
export async function chainSyncLag(provider: Provider, syncedBlock: number | undefined): Promise<number | null> {
  if (syncedBlock === undefined) return null
  try {
    return Math.max(0, (await provider.getBlockNumber()) - syncedBlock)
  } catch {
    return null
  }
}
