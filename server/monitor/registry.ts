import type { RegistryNode } from './protocol.ts'
import type { NodeStore } from './node-store.ts'
import { challengeScore } from './challenge-record.ts'

/**
 * The node registry storage nodes assign over: every node that ever reported, live when its latest
 * report arrived within `nodeTimeoutMs` (monitor time), with what it holds and what it failed.
 */
export async function readRegistry(store: NodeStore, nodeTimeoutMs: number, now = Date.now()): Promise<RegistryNode[]> {
  const records = await store.nodes()
  return await Promise.all(
    records.map(async ({ deviceId, report, receivedAt }) => {
      const challenges = await store.challenges(deviceId)
      return {
        deviceId,
        apiUrl: report.apiUrl,
        multiaddrs: report.multiaddrs,
        roles: report.roles,
        lastReportAt: receivedAt,
        live: now - Date.parse(receivedAt) <= nodeTimeoutMs,
        replicating: report.replication.enabled,
        quotaBytes: report.storage.quotaBytes,
        replicaBytes: report.storage.replicaBytes,
        held: report.replication.held,
        failed: challenges.failedCids,
        score: challengeScore(challenges)
      }
    })
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
    replicating: { type: 'boolean' },
    quotaBytes: { type: 'integer' },
    replicaBytes: { type: 'integer' },
    held: { type: 'array', items: { type: 'string' } },
    failed: { type: 'array', items: { type: 'string' } },
    score: { type: 'number' }
  }
} as const
