// Which nodes hold which CIDs (DESIGN decision 7): rendezvous (highest-random-weight) hashing of
// (CID, node id) ranks the nodes for each CID, and the first `target` in rank that can take the CID
// hold it. Every node computes the same assignment from the same catalogue and registry snapshot, so
// there is no coordinator; a node joining or leaving changes only the CIDs it ranks among the first for.
//
// Repair with a margin (issue 15, as IPFS Cluster's replication_factor_min/max): the rank is taken
// over every node the registry lists, present (live or resting in an announced window) or gone, so a
// node that is away keeps its place; while it is away its CIDs stay on the present nodes that hold
// them, and go to nodes outside their place only when fewer than `min` present nodes hold them, then
// up to `target`. A blip or a nightly rest (min ≤ present copies < target) moves nothing.
import { createHash } from 'node:crypto'

/** Live: reporting. Resting: silent inside a window it announced. Gone: silent otherwise. */
export type Presence = 'live' | 'resting' | 'gone'

/** What the assignment needs to know of a node (a RegistryNode has these fields). */
export interface AssignableNode {
  deviceId: string
  /** Bytes of replicas the node takes. */
  quotaBytes: number
  /** CIDs it failed challenges for: it is treated as not able to hold them. */
  failed: string[]
  /** Live when unset. Only a live node is given a CID outside its place; a gone node only keeps its place in the rank. */
  presence?: Presence
  /** CIDs it holds, by the registry (proven by challenge). */
  held?: string[]
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

interface NodeState {
  room: number
  failed: Set<string>
  presence: Presence
  held: Set<string>
}

/**
 * Assigns each CID, in catalogue order, to at most `target` nodes that have room left in their quota
 * and have not failed it, in this order of preference:
 * 1. its place: the first `target` such nodes in rank over every listed node, present or gone, that
 *    are present (one that does not hold it fetches it: its own share, which keeps the load even as
 *    nodes join; with nobody away, this is the plain rendezvous assignment);
 * 2. other present nodes that hold it, by rank (a copy made while a node of its place was away);
 * 3. only while fewer than `min` present nodes hold it: live nodes outside its place, by rank.
 * So a node away costs no fetch while `min` present nodes hold each of its CIDs. Pure and deterministic.
 */
export function assign(entries: AssignableEntry[], nodes: AssignableNode[], target: number, min = target): Assignment {
  if (!Number.isInteger(target) || target < 1) throw new RangeError(`the replication factor must be a positive integer, got ${target}`)
  if (!Number.isInteger(min) || min < 1 || min > target)
    throw new RangeError(`the minimum replicas must be an integer from 1 to the factor ${target}, got ${min}`)
  const states = new Map<string, NodeState>()
  for (const node of nodes) {
    if (states.has(node.deviceId)) throw new RangeError(`node ${node.deviceId} is listed twice`)
    states.set(node.deviceId, {
      room: node.quotaBytes,
      failed: new Set(node.failed),
      presence: node.presence ?? 'live',
      held: new Set(node.held)
    })
  }
  const ids = [...states.keys()]
  const assignment: Assignment = new Map()
  for (const entry of entries) {
    // two films may share a CID: it is placed (and takes room) once
    if (assignment.has(entry.cid)) continue
    assignment.set(entry.cid, place(entry, rankNodes(entry.cid, ids), states, target, min))
  }
  return assignment
}

/** The holders of one CID (see assign), taking their room. */
function place(entry: AssignableEntry, ranked: string[], states: Map<string, NodeState>, target: number, min: number): string[] {
  const state = (id: string): NodeState => states.get(id) as NodeState
  const able = ranked.filter(id => state(id).room >= entry.bytes && !state(id).failed.has(entry.cid))
  const ownPlace = new Set(able.slice(0, target))
  const present = (id: string): boolean => state(id).presence !== 'gone'
  const holds = (id: string): boolean => present(id) && state(id).held.has(entry.cid)
  const kept = [...able.filter(id => ownPlace.has(id) && present(id)), ...able.filter(id => !ownPlace.has(id) && holds(id))].slice(
    0,
    target
  )
  const added = kept.filter(holds).length >= min ? [] : able.filter(id => !kept.includes(id) && state(id).presence === 'live')
  const chosen = new Set([...kept, ...added].slice(0, target))
  for (const id of chosen) state(id).room -= entry.bytes
  // best ranked first, as before the margin
  return ranked.filter(id => chosen.has(id))
}

/** The CIDs assigned to one node, in catalogue order. */
export function assignedTo(assignment: Assignment, nodeId: string): string[] {
  return [...assignment].flatMap(([cid, holders]) => (holders.includes(nodeId) ? [cid] : []))
}
