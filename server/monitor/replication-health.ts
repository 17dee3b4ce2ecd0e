import type { RegistryNode } from '../wire/monitor-protocol.ts'

export interface ReplicationHealth {
  minReplicas: number
  /** CIDs the network should keep: the catalogue's, and anything a node holds. */
  cids: number
  /** CIDs with fewer than minReplicas copies on live nodes (copies that failed their challenges do not count). */
  underReplicated: number
  /** Of those, CIDs with no copy at all on a live node. */
  withoutCopy: number
  /** The least-held CIDs under the minimum, fewest copies first (at most `listed`). */
  lowest: Array<{ cid: string; copies: number }>
}

/**
 * Copies of each CID among live nodes. The CID universe is the catalogue (every registered film's
 * metadata and content, when the monitor follows the chain) joined with what nodes report holding,
 * so a film nobody holds still counts as under-replicated.
 */
export function replicationHealth(nodes: RegistryNode[], minReplicas: number, catalogue: Iterable<string>, listed = 20): ReplicationHealth {
  const copies = new Map<string, number>()
  for (const cid of catalogue) copies.set(cid, 0)
  for (const node of nodes) for (const cid of node.held) if (!copies.has(cid)) copies.set(cid, 0)
  for (const node of nodes) {
    if (!node.live) continue
    const failed = new Set(node.failed)
    for (const cid of new Set(node.held)) if (!failed.has(cid)) copies.set(cid, (copies.get(cid) ?? 0) + 1)
  }
  const under = [...copies].filter(([, n]) => n < minReplicas).sort((a, b) => a[1] - b[1] || a[0].localeCompare(b[0]))
  return {
    minReplicas,
    cids: copies.size,
    underReplicated: under.length,
    withoutCopy: under.filter(([, n]) => n === 0).length,
    lowest: under.slice(0, listed).map(([cid, n]) => ({ cid, copies: n }))
  }
}
