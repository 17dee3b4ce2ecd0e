// The network's monitor in this process, on 127.0.0.1, closed when the test ends.
import type { DeviceIdentity } from '../../server/identity/device-identity.ts'
import { startMonitor, type Monitor, type MonitorLogOptions } from '../../server/monitor/monitor.ts'
import type { MonitorConfig } from '../../server/monitor/monitor-config.ts'
import { NODES_PATH, type HealthReport, type LanPresence, type RegistryNode, type RestWindow } from '../../server/wire/monitor-protocol.ts'
import { randomBytes } from 'node:crypto'
import { CID } from 'multiformats/cid'
import { create as digestOf } from 'multiformats/hashes/digest'
import { getJson } from './http.ts'
import type { Test } from './in-process.ts'

/**
 * The monitor's defaults, except challenges so rare that only a test's own calls (and the prompt
 * challenges of new claims) run them, and open admission: a test's boxes have fresh keys.
 */
export function monitorConfig(dataDir: string, overrides: Partial<MonitorConfig> = {}): MonitorConfig {
  return {
    dataDir,
    host: '127.0.0.1',
    port: 0,
    nodeTimeoutMs: 60_000,
    retentionMs: 24 * 60 * 60 * 1000,
    nodeRetentionMs: 7 * 24 * 60 * 60 * 1000,
    admission: { mode: 'open' },
    pruneSchedule: '0 0 * * * *',
    challengeIntervalMs: 24 * 60 * 60 * 1000,
    challengeBlocks: 3,
    challengeDeadlineMs: 10_000,
    challengeMsPerBlock: 40,
    challengeChecks: 4,
    failuresBeforeFailed: 2,
    minReplicas: 3,
    ...overrides
  }
}

/** Starts a monitor that the test's teardown closes; closing it earlier (to restart it) is fine. */
export async function startTestMonitor(
  t: Test,
  dataDir: string,
  overrides: Partial<MonitorConfig> = {},
  log: MonitorLogOptions = {}
): Promise<Monitor> {
  const monitor = await startMonitor(monitorConfig(dataDir, overrides), { logLevel: 'silent', ...log })
  let closing: Promise<void> | undefined
  const close = async (): Promise<void> => {
    closing ??= monitor.close()
    await closing
  }
  t.teardown(close)
  return { ...monitor, close }
}

export async function registry(monitorUrl: string): Promise<RegistryNode[]> {
  return (await getJson<{ nodes: RegistryNode[] }>(`${monitorUrl}${NODES_PATH}`)).nodes
}

/** The seqs of a node's reports the monitor keeps, oldest first. */
export async function historySeqs(monitorUrl: string, deviceId: string): Promise<number[]> {
  const { reports } = await getJson<{ reports: Array<{ report: HealthReport }> }>(
    `${monitorUrl}${NODES_PATH}/${deviceId}/reports?limit=999`
  )
  return reports.map(entry => entry.report.seq)
}

/** A well-formed report of `identity` (figures made up: the monitor checks form, not truth). */
export function healthReport(
  identity: Pick<DeviceIdentity, 'deviceId'>,
  seq: number,
  opts: { apiUrl: string; held?: string[]; quotaBytes?: number; at?: Date; lan?: LanPresence; rest?: RestWindow[] }
): HealthReport {
  const at = opts.at ?? new Date()
  return {
    deviceId: identity.deviceId,
    seq,
    timestamp: at.toISOString(),
    version: '0.1.0',
    uptimeSec: 60 * seq,
    roles: ['storage'],
    apiUrl: opts.apiUrl,
    multiaddrs: [],
    ...(opts.lan !== undefined ? { lan: opts.lan } : {}),
    ...(opts.rest !== undefined ? { rest: opts.rest } : {}),
    system: {
      at: at.toISOString(),
      cpu: { loadPercent: 12.5, load1: 0.4, cores: 4, temperatureC: 51.2, throttled: null },
      memory: { totalBytes: 4e9, usedBytes: 1e9, availableBytes: 3e9 },
      disk: { totalBytes: 1e12, usedBytes: 2e11, freeBytes: 8e11 },
      network: { rxBytes: 1000 * seq, txBytes: 2000 * seq }
    },
    storage: { pinsHeld: 2, pinnedBytes: 5_000_000, quotaBytes: opts.quotaBytes ?? 50e9, replicaBytes: 0 },
    replication: { enabled: true, held: opts.held ?? [], assigned: 1, met: 1, missing: 0 },
    service: { peersConnected: 3, streamsServed: 0, chainSyncLag: 0, errorsSinceLastReport: 0 }
  }
}

const DAG_PB = 0x70
const SHA2_256 = 0x12

/** A CID of the form a film's root has (CIDv1 dag-pb sha2-256, base32: 59 characters), of random bytes. */
export function filmCid(): string {
  return CID.createV1(DAG_PB, digestOf(SHA2_256, randomBytes(32))).toString()
}
