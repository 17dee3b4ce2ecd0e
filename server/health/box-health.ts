import type { FastifyInstance } from 'fastify'
import type { DaemonConfig } from '../config.ts'
import type { StateDb } from '../storage/state-db.ts'
import type { StorageNode } from '../storage/helia-node.ts'
import type { DeviceIdentity } from '../identity/device-identity.ts'
import type { SettingsStore } from '../settings/settings.ts'
import { VERSION } from '../lib/version.ts'
import { createHealthCollector, type ReplicationFigures } from './health-figures.ts'
import type { ServiceCounters } from './service-counters.ts'
import { createBoxMetrics } from './box-metrics.ts'
import type { PeerServingFigures } from '../replication/peer-serving.ts'
import { metricsRoute } from './metrics-route.ts'
import { startReporter, type Reporter } from './reporter.ts'
import { lanPresence } from './lan-presence.ts'
import { restWindows } from '../replication/rest-windows.ts'

export interface BoxHealthOptions {
  config: Pick<DaemonConfig, 'dataDir' | 'roles' | 'monitorUrl' | 'reportIntervalSec'>
  db: StateDb
  identity: DeviceIdentity
  helia: StorageNode
  settings: SettingsStore
  counters: ServiceCounters
  chainSyncLag(): Promise<number | null>
  /** What the box has served other boxes. */
  peerServing(): PeerServingFigures
  /** The replicator's figures (see HealthSources.replication). */
  replication?: () => Promise<ReplicationFigures>
  /** Follows what the box holds (the replicator's pins and releases): each change is reported soon, not at the interval. */
  heldChanges?(listener: () => void): () => void
}

export interface BoxHealth {
  /** Starts the reports to the monitor when one is configured; `apiUrl` is where this box listens, `listening` its host and port. */
  startReporting(apiUrl: string, listening: { host: string; port: number }): Promise<void>
  close(): Promise<void>
}

/** The box's health: GET /metrics on `app` now, and signed reports to the monitor once the box listens. */
export function boxHealth(app: FastifyInstance, opts: BoxHealthOptions): BoxHealth {
  const { config, identity, helia } = opts
  const collect = createHealthCollector({
    dataDir: config.dataDir,
    helia,
    counters: opts.counters,
    quotaBytes: async () => (await opts.settings.get()).storageQuotaBytes,
    chainSyncLag: opts.chainSyncLag,
    replication: opts.replication,
    rest: async () => restWindows((await opts.settings.get()).replication)
  })
  const metrics = createBoxMetrics({ deviceId: identity.deviceId, version: VERSION, roles: config.roles })
  let reporter: Reporter | undefined
  let unfollow: (() => void) | undefined
  metricsRoute(app, {
    registry: metrics.registry,
    refresh: async () =>
      metrics.update(await collect(), reporter?.stats(), { served: opts.peerServing(), fetched: helia.fetcher.figures() })
  })

  return {
    startReporting: async (apiUrl, listening) => {
      if (config.monitorUrl === undefined) return
      reporter = await startReporter({
        db: opts.db,
        identity,
        monitorUrl: config.monitorUrl,
        intervalSec: config.reportIntervalSec,
        describe: () => ({
          version: VERSION,
          roles: config.roles,
          apiUrl,
          multiaddrs: helia.libp2p.getMultiaddrs().map(address => address.toString()),
          // read at each report: DHCP may change the addresses
          lan: lanPresence(listening.host, listening.port)
        }),
        collect,
        log: app.log.child({ part: 'health' })
      })
      const started = reporter
      unfollow = opts.heldChanges?.(() => started.reportSoon())
    },
    close: async () => {
      unfollow?.()
      await reporter?.close()
    }
  }
}
