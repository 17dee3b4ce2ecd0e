import type { HealthReport, RegistryNode } from '../wire/monitor-protocol.ts'
import type { ChallengeRecord, NodeRecord, NodeStore } from './node-store.ts'
import { challengeScore } from './challenge-record.ts'

/**
 * The node registry storage nodes assign over: the admitted nodes whose apiUrl answered for their key
 * (node-identity.ts) and that reported within the node retention, live when the latest report
 * arrived within `nodeTimeoutMs` (monitor time), else resting or gone (isResting), with the copies they
 * proved holding and what they failed.
 */
export async function readRegistry(
  store: NodeStore,
  nodeTimeoutMs: number,
  admits: (deviceId: string) => Promise<boolean>,
  now = Date.now()
): Promise<RegistryNode[]> {
  const records: NodeRecord[] = []
  for (const record of await store.nodes()) {
    if (record.verifiedApiUrl === record.report.apiUrl && (await admits(record.deviceId))) records.push(record)
  }
  return await Promise.all(records.map(async record => registryNode(record, await store.challenges(record.deviceId), nodeTimeoutMs, now)))
}

/**
 * One node as the registry lists it: live when its latest report arrived within `nodeTimeoutMs`
 * (monitor time), else resting or gone (isResting), with the copies it proved holding and what it failed. Pure, so that
 * bench/network-sim.ts lists thousands of simulated nodes through it.
 */
export function registryNode(record: NodeRecord, challenges: ChallengeRecord, nodeTimeoutMs: number, now: number): RegistryNode {
  const { deviceId, report, receivedAt } = record
  const verified = new Set(record.verifiedHeld)
  const live = now - Date.parse(receivedAt) <= nodeTimeoutMs
  return {
    deviceId,
    apiUrl: report.apiUrl,
    multiaddrs: report.multiaddrs,
    roles: report.roles,
    lastReportAt: receivedAt,
    live,
    resting: !live && isResting(report, receivedAt, nodeTimeoutMs, now),
    replicating: report.replication.enabled,
    quotaBytes: report.storage.quotaBytes,
    replicaBytes: report.storage.replicaBytes,
    // claims in the report's order, those proven only: an unproven claim is no copy
    held: report.replication.held.filter(cid => verified.has(cid)),
    failed: challenges.failedCids,
    score: challengeScore(challenges)
  }
}

/**
 * Whether a silent node is resting: a window of its latest report began at most `nodeTimeoutMs` after
 * that report (it fell silent for the window, not hours before it), and has not ended `nodeTimeoutMs`
 * ago. The window's length is bounded (MAX_REST_MS, checked when the report came), so no node rests
 * for ever: past the window and the timeout it is gone.
 */
export function isResting(report: HealthReport, receivedAt: string, nodeTimeoutMs: number, now: number): boolean {
  const lastHeard = Date.parse(receivedAt)
  return (report.rest ?? []).some(
    window => lastHeard + nodeTimeoutMs >= Date.parse(window.start) && now <= Date.parse(window.end) + nodeTimeoutMs
  )
}

/** JSON schema of one RegistryNode (the response of NODES_PATH). */
export const registryNodeSchema = {
  type: 'object',
  required: [
    'deviceId',
    'apiUrl',
    'multiaddrs',
    'roles',
    'lastReportAt',
    'live',
    'resting',
    'replicating',
    'quotaBytes',
    'replicaBytes',
    'held',
    'failed',
    'score'
  ],
  properties: {
    deviceId: { type: 'string' },
    apiUrl: { type: 'string' },
    multiaddrs: { type: 'array', items: { type: 'string' } },
    roles: { type: 'array', items: { type: 'string' } },
    lastReportAt: { type: 'string' },
    live: { type: 'boolean' },
    resting: { type: 'boolean' },
    replicating: { type: 'boolean' },
    quotaBytes: { type: 'integer' },
    replicaBytes: { type: 'integer' },
    held: { type: 'array', items: { type: 'string' } },
    failed: { type: 'array', items: { type: 'string' } },
    score: { type: 'number' }
  }
} as const
