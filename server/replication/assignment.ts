// Which nodes hold which CIDs (DESIGN decision 7): rendezvous (highest-random-weight) hashing of
// (CID, node id) ranks the nodes for each CID, and the first k in rank that can take the CID hold it.
// Every node computes the same assignment from the same catalogue and node set, so there is no
// coordinator; a node joining or leaving changes only the CIDs it ranks among the first k for.
import { createHash } from 'node:crypto'

/** What the assignment needs to know of a node (a RegistryNode has these fields). */
export interface AssignableNode {
  deviceId: string
  /** Bytes of replicas the node takes. */
  quotaBytes: number
  /** CIDs it failed challenges for: it is treated as not able to hold them. */
  failed: string[]
}

export interface AssignableEntry {
  cid: string
  bytes: number
}

/** The node ids chosen for each CID, best ranked first; fewer than k when the node set cannot take more. */
export type Assignment = Map<string, string[]>

/** The rendezvous weight of a node for a CID: the first 64 bits of SHA-256 over both. */
export function rendezvousWeight(cid: string, nodeId: string): bigint {
  return createHash('sha256').update(cid).update('\n').update(nodeId).digest().readBigUInt64BE(0)
}

/** Node ids in rank order for a CID: highest weight first (ties, which 64 bits make unlikely, by id). */
export function rankNodes(cid: string, nodeIds: string[]): string[] {
  const weighted = nodeIds.map(id => ({ id, weight: rendezvousWeight(cid, id) }))
  weighted.sort((a, b) => (a.weight === b.weight ? (a.id < b.id ? -1 : 1) : a.weight > b.weight ? -1 : 1))
  return weighted.map(w => w.id)
}

/**
 * Assigns each CID, in catalogue order, to the first `k` nodes in its rank that have room left in
 * their quota and have not failed it. A CID that does not fit a node passes to the next in rank, so
 * the factor holds as long as the node set has the room. Pure and deterministic.
 */
export function assign(entries: AssignableEntry[], nodes: AssignableNode[], k: number): Assignment {
  if (!Number.isInteger(k) || k < 1) throw new RangeError(`the replication factor must be a positive integer, got ${k}`)
  const room = new Map<string, number>()
  const failed = new Map<string, Set<string>>()
  for (const node of nodes) {
    if (room.has(node.deviceId)) throw new RangeError(`node ${node.deviceId} is listed twice`)
    room.set(node.deviceId, node.quotaBytes)
    failed.set(node.deviceId, new Set(node.failed))
  }
  const ids = [...room.keys()]
  const assignment: Assignment = new Map()
  for (const entry of entries) {
    // two films may share a CID: it is placed (and takes room) once
    if (assignment.has(entry.cid)) continue
    const chosen: string[] = []
    for (const id of rankNodes(entry.cid, ids)) {
      if (chosen.length === k) break
      const left = room.get(id) as number
      if (left < entry.bytes || failed.get(id)?.has(entry.cid) === true) continue
      room.set(id, left - entry.bytes)
      chosen.push(id)
    }
    assignment.set(entry.cid, chosen)
  }
  return assignment
}

/** The CIDs assigned to one node, in catalogue order. */
export function assignedTo(assignment: Assignment, nodeId: string): string[] {
  return [...assignment].flatMap(([cid, holders]) => (holders.includes(nodeId) ? [cid] : []))
}
