// The network's monitor in this process, on 127.0.0.1, closed when the test ends.
import { startMonitor, type Monitor } from '../../server/monitor/monitor.ts'
import type { MonitorConfig } from '../../server/monitor/monitor-config.ts'
import { NODES_PATH, type HealthReport, type RegistryNode } from '../../server/monitor/protocol.ts'
import { getJson } from './http.ts'
import type { Test } from './in-process.ts'

/** The monitor's defaults, except challenges so rare that only a test's own calls run them. */
export function monitorConfig(dataDir: string, overrides: Partial<MonitorConfig> = {}): MonitorConfig {
  return {
    dataDir,
    host: '127.0.0.1',
    port: 0,
    nodeTimeoutMs: 60_000,
    retentionMs: 24 * 60 * 60 * 1000,
    pruneSchedule: '0 0 * * * *',
    challengeIntervalMs: 24 * 60 * 60 * 1000,
    challengeBlocks: 3,
    challengeDeadlineMs: 10_000,
    failuresBeforeFailed: 2,
    minReplicas: 3,
    ...overrides
  }
}

/** Starts a monitor that the test's teardown closes; closing it earlier (to restart it) is fine. */
export async function startTestMonitor(t: Test, dataDir: string, overrides: Partial<MonitorConfig> = {}): Promise<Monitor> {
  const monitor = await startMonitor(monitorConfig(dataDir, overrides), { logLevel: 'silent' })
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
