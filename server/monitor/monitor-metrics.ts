import { Counter, Gauge, type Registry } from 'prom-client'
import { createMetricsRegistry } from '../health/metrics-route.ts'
import type { Fleet } from './fleet.ts'

export type ReportResult = 'accepted' | 'malformed' | 'forged' | 'refused' | 'replayed'

export interface MonitorMetrics {
  registry: Registry
  report(result: ReportResult): void
  challenge(passed: boolean): void
  update(fleet: Fleet): void
}

/** The monitor's own /metrics: what it received and checked, and the fleet as it sees it (seedone_monitor_*). */
export function createMonitorMetrics(): MonitorMetrics {
  const registry = createMetricsRegistry()
  const registers = [registry]
  const reports = new Counter({
    name: 'seedone_monitor_reports_total',
    help: 'Health reports received, by result (accepted, malformed, forged, refused: not admitted, replayed)',
    labelNames: ['result'],
    registers
  })
  const challenges = new Counter({
    name: 'seedone_monitor_challenges_total',
    help: 'Proof-of-holding challenges run, by result (passed, failed)',
    labelNames: ['result'],
    registers
  })
  const nodes = new Gauge({
    name: 'seedone_monitor_nodes',
    help: 'Nodes that ever reported, by state (live, resting, down)',
    labelNames: ['state'],
    registers
  })
  const perNode = (name: string, help: string): Gauge =>
    new Gauge({ name: `seedone_monitor_node_${name}`, help, labelNames: ['device_id'], registers })
  const up = perNode('up', '1 when the node reported within the liveness timeout')
  const lastReport = perNode('last_report_timestamp_seconds', 'When the latest report arrived (Unix time)')
  const score = perNode('challenge_score_ratio', 'Share of challenges the node passed, 0 to 1')
  const failedCids = perNode('failed_cids', 'CIDs the node failed repeatedly and is treated as not holding')
  const diskFree = perNode('disk_free_bytes', 'Free disk the node reported')
  const temperature = perNode('temperature_celsius', 'CPU temperature the node reported, absent without a sensor')
  const missing = perNode('assignments_missing', 'CIDs assigned to the node that it does not hold yet')
  const cids = new Gauge({ name: 'seedone_monitor_cids', help: 'CIDs the network keeps (catalogue and held)', registers })
  const under = new Gauge({
    name: 'seedone_monitor_cids_under_replicated',
    help: 'CIDs with fewer copies on present (live or resting) nodes than the minimum',
    registers
  })
  const withoutCopy = new Gauge({ name: 'seedone_monitor_cids_without_copy', help: 'CIDs with no copy on a present node', registers })

  return {
    registry,
    report: result => reports.inc({ result }),
    challenge: passed => challenges.inc({ result: passed ? 'passed' : 'failed' }),
    update: fleet => {
      for (const gauge of [up, lastReport, score, failedCids, diskFree, temperature, missing]) gauge.reset()
      for (const node of fleet.nodes) {
        const device_id = node.deviceId
        up.set({ device_id }, node.live ? 1 : 0)
        lastReport.set({ device_id }, Date.parse(node.lastReportAt) / 1000)
        score.set({ device_id }, node.challenges.score)
        failedCids.set({ device_id }, node.challenges.failedCids.length)
        diskFree.set({ device_id }, node.disk.freeBytes)
        if (node.temperatureC !== null) temperature.set({ device_id }, node.temperatureC)
        missing.set({ device_id }, node.replication.missing)
      }
      const live = fleet.nodes.filter(node => node.live).length
      const resting = fleet.nodes.filter(node => node.resting).length
      nodes.set({ state: 'live' }, live)
      nodes.set({ state: 'resting' }, resting)
      nodes.set({ state: 'down' }, fleet.nodes.length - live - resting)
      cids.set(fleet.replication.cids)
      under.set(fleet.replication.underReplicated)
      withoutCopy.set(fleet.replication.withoutCopy)
    }
  }
}
