import type { RegistryNode } from '../wire/monitor-protocol.ts'

export interface ReplicationHealth {
  minReplicas: number
  /** CIDs the network should keep: the catalogue's, and anything a node holds. */
  cids: number
  /**
   * CIDs with fewer than minReplicas copies on present nodes, live or resting (copies that failed their
   * challenges do not count): what the storage nodes repair.
   */
  underReplicated: number
  /** Of those, CIDs with no copy at all on a present node. */
  withoutCopy: number
  /** CIDs under minReplicas on live nodes alone, but not with the resting nodes' copies: no repair, they come back. */
  underWhileResting: number
  /** The least-held CIDs under the minimum on live nodes, fewest present copies first (at most `listed`); `copies` are the live ones. */
  lowest: Array<{ cid: string; copies: number; resting: number }>
}

/**
 * Copies of each CID among live nodes, and apart among resting nodes. The CID universe is the catalogue (every part of every
 * registered film, when the monitor follows the chain) joined with what nodes report holding,
 * so a film nobody holds still counts as under-replicated.
 */
export function replicationHealth(nodes: RegistryNode[], minReplicas: number, catalogue: Iterable<string>, listed = 20): ReplicationHealth {
  const copies = countCopies(nodes, catalogue)
  const present = (n: Copies): number => n.live + n.resting
  const under = [...copies]
    .filter(([, n]) => n.live < minReplicas)
    .sort((a, b) => present(a[1]) - present(b[1]) || a[1].live - b[1].live || a[0].localeCompare(b[0]))
  const repaired = under.filter(([, n]) => present(n) < minReplicas)
  return {
    minReplicas,
    cids: copies.size,
    underReplicated: repaired.length,
    withoutCopy: repaired.filter(([, n]) => present(n) === 0).length,
    underWhileResting: under.length - repaired.length,
    lowest: under.slice(0, listed).map(([cid, n]) => ({ cid, copies: n.live, resting: n.resting }))
  }
}

/** Copies of one CID on live nodes and, apart, on resting ones. */
export interface Copies {
  live: number
  resting: number
}

/** The copies of every catalogue CID and every CID a node holds; copies that failed their challenges do not count. */
export function countCopies(nodes: RegistryNode[], catalogue: Iterable<string>): Map<string, Copies> {
  const copies = new Map<string, Copies>()
  const count = (cid: string): Copies => {
    const counted = copies.get(cid) ?? { live: 0, resting: 0 }
    copies.set(cid, counted)
    return counted
  }
  for (const cid of catalogue) count(cid)
  for (const node of nodes) for (const cid of node.held) count(cid)
  for (const node of nodes) {
    if (!node.live && node.resting !== true) continue
    const failed = new Set(node.failed)
    for (const cid of new Set(node.held)) if (!failed.has(cid)) count(cid)[node.live ? 'live' : 'resting']++
  }
  return copies
}
