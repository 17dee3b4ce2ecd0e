import { Counter, Gauge, type Registry } from 'prom-client'
import { createMetricsRegistry } from './metrics-route.ts'
import type { HealthFigures } from './health-figures.ts'
import type { ReporterStats } from './reporter.ts'
import type { PeerServingFigures } from '../replication/peer-serving.ts'
import type { FetchFigures } from '../storage/block-fetcher.ts'

/** Blocks moved between this box and others, both ways, since the service started. */
export interface BlockTransferFigures {
  served: PeerServingFigures
  fetched: FetchFigures
}

/** The health report's figures as Prometheus metrics (seedone_*), beside prom-client's process metrics. */
export interface BoxMetrics {
  registry: Registry
  update(figures: HealthFigures, reporter: ReporterStats | undefined, transfer: BlockTransferFigures): void
}

/**
 * A counter that mirrors a running total kept elsewhere (the OS's, the service's): set by resetting it
 * and adding the total, since prom-client counters only go up.
 */
function mirror(counter: Counter, total: number): void {
  counter.reset()
  counter.inc(total)
}

type Metrics = ReturnType<typeof defineMetrics>

export function createBoxMetrics(info: { deviceId: string; version: string; roles: string[] }): BoxMetrics {
  const registry = createMetricsRegistry()
  new Gauge({
    name: 'seedone_info',
    help: 'Always 1: the device and software this Seed One runs',
    labelNames: ['device_id', 'version', 'roles'],
    registers: [registry]
  }).set({ device_id: info.deviceId, version: info.version, roles: info.roles.join(',') }, 1)
  const m = defineMetrics(registry)
  return { registry, update: (figures, reporter, transfer) => setFigures(m, figures, reporter, transfer) }
}

/**
 * A figure the box may not have (no sensor, no owner): left out when absent rather than shown as 0.
 * prom-client always exposes an unlabelled metric, so the metric itself leaves the registry.
 */
function optionalGauge(registry: Registry, name: string, help: string): (value: number | null) => void {
  const fullName = `seedone_${name}`
  const metric = new Gauge({ name: fullName, help, registers: [] })
  return value => {
    const registered = registry.getSingleMetric(fullName) !== undefined
    if (value === null) {
      if (registered) registry.removeSingleMetric(fullName)
      return
    }
    if (!registered) registry.registerMetric(metric)
    metric.set(value)
  }
}

/** The seedone_* metrics, each registered once (the optional ones only while they have a value). */
function defineMetrics(registry: Registry) {
  const gauge = (name: string, help: string): Gauge => new Gauge({ name: `seedone_${name}`, help, registers: [registry] })
  const counter = (name: string, help: string): Counter => new Counter({ name: `seedone_${name}`, help, registers: [registry] })
  const optional = (name: string, help: string): ((value: number | null) => void) => optionalGauge(registry, name, help)
  return {
    uptime: gauge('uptime_seconds', 'Seconds since the service started'),
    cpuLoad: gauge('cpu_load_ratio', 'CPU busy share over all cores, 0 to 1'),
    load1: gauge('cpu_load1', 'One-minute load average'),
    temperature: optional('cpu_temperature_celsius', 'CPU temperature, absent where no sensor is readable'),
    throttled: optional('cpu_throttled_flags', 'The Raspberry Pi firmware throttling flags (get_throttled), absent off a Pi'),
    memoryTotal: gauge('memory_total_bytes', 'Memory installed'),
    memoryAvailable: gauge('memory_available_bytes', 'Memory available to programs'),
    diskTotal: gauge('disk_total_bytes', 'Size of the file system holding the data directory'),
    diskUsed: gauge('disk_used_bytes', 'Bytes used on the file system holding the data directory'),
    diskFree: gauge('disk_free_bytes', 'Bytes free on the file system holding the data directory'),
    networkRx: counter('network_receive_bytes_total', 'Bytes received on every interface but loopback since boot'),
    networkTx: counter('network_transmit_bytes_total', 'Bytes sent on every interface but loopback since boot'),
    pins: gauge('pins', 'Root CIDs pinned'),
    pinnedBytes: gauge('pinned_bytes', 'Bytes of the pinned DAGs'),
    quota: gauge('replica_quota_bytes', "The owner's disk quota for other people's films"),
    replicaBytes: gauge('replica_bytes', "Bytes of other people's films held"),
    replicationEnabled: gauge('replication_enabled', '1 when the box replicates for the network'),
    held: gauge('replication_held_cids', 'Catalogue CIDs held in full'),
    assigned: gauge('replication_assigned_cids', 'Catalogue CIDs assigned to this box'),
    met: gauge('replication_met_cids', 'Assigned CIDs held'),
    missing: gauge('replication_missing_cids', 'Assigned CIDs not held yet'),
    peers: gauge('peers_connected', 'libp2p peers connected'),
    streams: counter('streams_served_total', 'Film streams served since the service started'),
    errors: counter('errors_total', 'Server errors and failed background work since the service started'),
    chainLag: optional('chain_sync_lag_blocks', 'Chain head minus the last block the watcher processed, absent without an owner'),
    queued: gauge('reports_queued', 'Health reports waiting for the monitor'),
    made: counter('reports_made_total', 'Health reports made since the service started'),
    delivered: counter('reports_delivered_total', 'Health reports the monitor acknowledged since the service started'),
    dropped: counter('reports_dropped_total', 'Health reports dropped unsent because the queue was full'),
    peerServed: counter('peer_served_bytes_total', 'Block bytes sent to other boxes (block route and bitswap) since the service started'),
    peerRefused: counter(
      'peer_refused_blocks_total',
      'Blocks other boxes asked for and were refused in quiet hours since the service started'
    ),
    fetched: new Counter({
      name: 'seedone_block_fetch_bytes_total',
      help: 'Block bytes fetched from other boxes and checked against their CIDs since the service started, by path',
      labelNames: ['path'],
      registers: [registry]
    }),
    fetchRefused: counter(
      'block_fetch_refused_total',
      "Other boxes' answers not taken (refused, failed, or bytes not matching the CID) since the service started"
    )
  }
}

function setFigures(m: Metrics, figures: HealthFigures, reporter: ReporterStats | undefined, transfer: BlockTransferFigures): void {
  const { system, storage, replication, service } = figures
  m.uptime.set(figures.uptimeSec)
  m.cpuLoad.set(system.cpu.loadPercent / 100)
  m.load1.set(system.cpu.load1)
  m.temperature(system.cpu.temperatureC)
  m.throttled(system.cpu.throttled)
  m.memoryTotal.set(system.memory.totalBytes)
  m.memoryAvailable.set(system.memory.availableBytes)
  m.diskTotal.set(system.disk.totalBytes)
  m.diskUsed.set(system.disk.usedBytes)
  m.diskFree.set(system.disk.freeBytes)
  mirror(m.networkRx, system.network.rxBytes)
  mirror(m.networkTx, system.network.txBytes)
  m.pins.set(storage.pinsHeld)
  m.pinnedBytes.set(storage.pinnedBytes)
  m.quota.set(storage.quotaBytes)
  m.replicaBytes.set(storage.replicaBytes)
  m.replicationEnabled.set(replication.enabled ? 1 : 0)
  m.held.set(replication.held.length)
  m.assigned.set(replication.assigned)
  m.met.set(replication.met)
  m.missing.set(replication.missing)
  m.peers.set(service.peersConnected)
  mirror(m.streams, service.streamsServed)
  mirror(m.errors, service.errorsTotal)
  m.chainLag(service.chainSyncLag)
  if (reporter !== undefined) {
    m.queued.set(reporter.queued)
    mirror(m.made, reporter.made)
    mirror(m.delivered, reporter.delivered)
    mirror(m.dropped, reporter.dropped)
  }
  mirror(m.peerServed, transfer.served.servedBytes)
  mirror(m.peerRefused, transfer.served.refusedBlocks)
  m.fetched.reset()
  m.fetched.inc({ path: 'http' }, transfer.fetched.httpBytes)
  m.fetched.inc({ path: 'bitswap' }, transfer.fetched.bitswapBytes)
  mirror(m.fetchRefused, transfer.fetched.refusedAnswers)
}
