// Which nodes hold which CIDs (DESIGN decision 7): rendezvous (highest-random-weight) hashing of
// (CID, node id) ranks the nodes for each CID, and the first k in rank that can take the CID hold it.
// Every node computes the same assignment from the same catalogue and registry snapshot, so there is
// no coordinator; a node joining or leaving changes only the CIDs it ranks among the first k for.
//
// Repair with a margin (issue 15, as IPFS Cluster's replication_factor_min/max): the rank is taken
// over every node the registry lists, present (live or resting in an announced window) or gone, so a
// node that is away keeps its place; while it is away its CIDs stay on the present nodes that hold
// them, and go to nodes outside their place only when fewer than `min` present nodes hold them, then
// up to k. A blip or a nightly rest (min ≤ present copies < k) moves nothing.
//
// The weight is a protocol between boxes: every node must run the same weight function, or their
// assignments disagree and copies are fetched and released at cross purposes. It changed once: from
// SHA-256 over (CID, node id) for every pair to a 64-bit mix of one SHA-256 digest per CID and one per
// node. At 100 000 CIDs and 10 000 nodes that is 10^9 weights per assignment: SHA-256 each took about
// 7 µs here (two hours per assignment), the mix a few nanoseconds (bench/network-sim.ts measures both).
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

/** Computes assignments, keeping each CID's best-ranked nodes between calls so that a node joining costs one weight per CID. */
export interface Assigner {
  /** See assign(). */
  assign(entries: AssignableEntry[], nodes: AssignableNode[], k: number, min?: number): Assignment
}

/** A text's 64-bit digest: the first 8 bytes of its SHA-256, as two unsigned 32-bit halves. */
function digest(text: string): [number, number] {
  const hash = createHash('sha256').update(text).digest()
  return [hash.readUInt32BE(0), hash.readUInt32BE(4)]
}

/** murmur3's 32-bit finaliser: a bijection in which every input bit changes about half the output bits. */
function fmix32(x: number): number {
  x = Math.imul(x ^ (x >>> 16), 0x85ebca6b)
  x = Math.imul(x ^ (x >>> 13), 0xc2b2ae35)
  return (x ^ (x >>> 16)) >>> 0
}

/**
 * The weight of a node for a CID from their digests: a bijective mix of the two XORed 64-bit
 * digests, truncated to 53 bits so it is an exact double (the same on every node, in integer ops only).
 */
function mixWeight(cidHi: number, cidLo: number, nodeHi: number, nodeLo: number): number {
  const a = cidHi ^ nodeHi
  const b = cidLo ^ nodeLo
  const h1 = fmix32(a ^ Math.imul(b, 0x9e3779b1))
  const h2 = fmix32(b ^ Math.imul(h1, 0x27d4eb2f))
  return (h1 >>> 11) * 2 ** 32 + h2
}

/** The rendezvous weight of a node for a CID, a 53-bit integer. */
export function rendezvousWeight(cid: string, nodeId: string): number {
  return mixWeight(...digest(cid), ...digest(nodeId))
}

/** Node ids in rank order for a CID: highest weight first (ties, which 53 bits make unlikely, by id). */
export function rankNodes(cid: string, nodeIds: string[]): string[] {
  const weighted = nodeIds.map(id => ({ id, weight: rendezvousWeight(cid, id) }))
  weighted.sort((a, b) => (a.weight === b.weight ? (a.id < b.id ? -1 : 1) : b.weight - a.weight))
  return weighted.map(w => w.id)
}

/**
 * How many best-ranked nodes are kept per CID: the k holders, plus spares for nodes that are full,
 * failed it or are absent. A CID that runs out of spares is ranked over all nodes (rare: with 40% of
 * the nodes full, fewer than 3 of 20 are free for about 1 CID in 10^5).
 */
const spares = (k: number): number => 4 * k + 8

/** The nodes ever given, by index (absent ones stay: a node that comes back keeps its index). */
interface Universe {
  ids: string[]
  /** The nodes' digests, in typed arrays: twice as fast to rank over as arrays of numbers. */
  hi: Uint32Array
  lo: Uint32Array
  index: Map<string, number>
}

const emptyUniverse = (): Universe => ({ ids: [], hi: new Uint32Array(1024), lo: new Uint32Array(1024), index: new Map() })

function addNode(universe: Universe, id: string): number {
  const at = universe.ids.push(id) - 1
  universe.index.set(id, at)
  if (at === universe.hi.length) {
    const grown = (from: Uint32Array): Uint32Array => {
      const to = new Uint32Array(from.length * 2)
      to.set(from)
      return to
    }
    universe.hi = grown(universe.hi)
    universe.lo = grown(universe.lo)
  }
  ;[universe.hi[at], universe.lo[at]] = digest(id)
  return at
}

/** One CID's best-ranked nodes over the universe's first `seen`: `count` indices, highest weight first. */
interface Ranked {
  hi: number
  lo: number
  seen: number
  top: Int32Array
  count: number
  /** The weight of the last kept node once `top` is full: a node below it is not kept. */
  floor: number
}

/**
 * Int32Array views cut from shared 64 KiB buffers for the kept ranks: a buffer of their own per CID
 * cost more than the ranks. Measured at 100 000 CIDs (heap and array buffers after a collection):
 * about 780 bytes a CID with a buffer each and the weights kept beside the ranks, 340 bytes so.
 */
function slabs(): (size: number) => Int32Array {
  let buffer = new ArrayBuffer(0)
  let used = 0
  return size => {
    if (used + size * 4 > buffer.byteLength) [buffer, used] = [new ArrayBuffer(Math.max(65_536, size * 4)), 0]
    const view = new Int32Array(buffer, used, size)
    used += size * 4
    return view
  }
}

/** Keeps `node` among the CID's best-ranked ones if its weight is high enough. */
function offer(universe: Universe, ranked: Ranked, node: number): void {
  insert(universe, ranked, node, mixWeight(ranked.hi, ranked.lo, universe.hi[node], universe.lo[node]))
}

function insert(universe: Universe, ranked: Ranked, node: number, weight: number): void {
  const { top } = ranked
  const full = ranked.count === top.length
  // the kept nodes' weights are computed again rather than stored: a comparison is rarer than a CID
  const weightAt = (at: number): number => mixWeight(ranked.hi, ranked.lo, universe.hi[top[at]], universe.lo[top[at]])
  const beats = (at: number): boolean => {
    const other = weightAt(at)
    return weight > other || (weight === other && universe.ids[node] < universe.ids[top[at]])
  }
  let at = ranked.count
  if (full) {
    if (!beats(at - 1)) return
    at--
  } else ranked.count++
  for (; at > 0 && beats(at - 1); at--) top[at] = top[at - 1]
  top[at] = node
  if (ranked.count === top.length) ranked.floor = weightAt(top.length - 1)
}

/** A CID's best `size` nodes over the whole universe. */
function rankOver(universe: Universe, cid: string, size: number, alloc = (n: number): Int32Array => new Int32Array(n)): Ranked {
  const [hi, lo] = digest(cid)
  const ranked: Ranked = { hi, lo, seen: universe.ids.length, top: alloc(size), count: 0, floor: -1 }
  const { hi: nodeHi, lo: nodeLo } = universe
  const last = size - 1
  for (let node = 0; node < universe.ids.length; node++) {
    const weight = mixWeight(hi, lo, nodeHi[node], nodeLo[node])
    // the common case, decided without a call: most nodes rank below the kept ones
    if (ranked.count > last && weight < ranked.floor) continue
    insert(universe, ranked, node, weight)
  }
  return ranked
}

const GONE = 0
const RESTING = 1
const LIVE = 2
const PRESENCE_CODE: Record<Presence, number> = { gone: GONE, resting: RESTING, live: LIVE }

/** The state of one assignment: which universe nodes are listed now, their presence and room, what they failed and hold. */
interface Pass {
  listed: Uint8Array
  presence: Uint8Array
  room: Float64Array
  failed: Map<string, Set<number>>
  /** CID → the present nodes holding it. */
  held: Map<string, number[]>
  k: number
  min: number
}

/**
 * One CID's holders, their room taken, in this order of preference among the nodes that are listed,
 * have room and have not failed it:
 * 1. its place: the first k such nodes in rank, present or gone, that are present (one that does not
 *    hold it fetches it: its own share, which keeps the load even as nodes join; with nobody away,
 *    this is the plain rendezvous assignment);
 * 2. other present nodes that hold it, by rank (a copy made while a node of its place was away);
 * 3. only while fewer than `min` present nodes hold it: live nodes outside its place, by rank.
 * Null when `ranked` ran out before the place or the additions were found (the caller ranks over all).
 */
function choose(universe: Universe, pass: Pass, ranked: Ranked, entry: AssignableEntry, complete: boolean): number[] | null {
  const failed = pass.failed.get(entry.cid)
  const able = (node: number): boolean => pass.listed[node] === 1 && pass.room[node] >= entry.bytes && failed?.has(node) !== true
  const holders = new Set((pass.held.get(entry.cid) ?? []).filter(able))
  const place: number[] = []
  const outside: number[] = []
  for (let i = 0; i < ranked.count; i++) {
    const node = ranked.top[i]
    if (able(node)) (place.length < pass.k ? place : outside).push(node)
  }
  if (place.length < pass.k && !complete) return null
  const weight = (node: number): number => mixWeight(ranked.hi, ranked.lo, universe.hi[node], universe.lo[node])
  const byRank = (a: number, b: number): number => weight(b) - weight(a) || (universe.ids[a] < universe.ids[b] ? -1 : 1)
  const kept = [...place.filter(node => pass.presence[node] !== GONE), ...[...holders].filter(node => !place.includes(node)).sort(byRank)]
  kept.length = Math.min(kept.length, pass.k)
  if (kept.filter(node => holders.has(node)).length < pass.min) {
    for (const node of outside) if (kept.length < pass.k && pass.presence[node] === LIVE && !kept.includes(node)) kept.push(node)
    if (kept.length < pass.k && !complete) return null
  }
  for (const node of kept) pass.room[node] -= entry.bytes
  // best ranked first, as before the margin
  return kept.sort(byRank)
}

function startPass(universe: Universe, nodes: AssignableNode[], k: number, min: number): Pass {
  if (!Number.isInteger(k) || k < 1) throw new RangeError(`the replication factor must be a positive integer, got ${k}`)
  if (!Number.isInteger(min) || min < 1 || min > k)
    throw new RangeError(`the minimum replicas must be an integer from 1 to the factor ${k}, got ${min}`)
  const size = universe.ids.length + nodes.length
  const pass: Pass = {
    listed: new Uint8Array(size),
    presence: new Uint8Array(size),
    room: new Float64Array(size),
    failed: new Map(),
    held: new Map(),
    k,
    min
  }
  for (const node of nodes) {
    const at = universe.index.get(node.deviceId) ?? addNode(universe, node.deviceId)
    if (pass.listed[at] === 1) throw new RangeError(`node ${node.deviceId} is listed twice`)
    pass.listed[at] = 1
    pass.presence[at] = PRESENCE_CODE[node.presence ?? 'live']
    pass.room[at] = node.quotaBytes
    for (const cid of node.failed) pass.failed.set(cid, (pass.failed.get(cid) ?? new Set()).add(at))
    if (pass.presence[at] === GONE) continue
    for (const cid of new Set(node.held)) {
      const holding = pass.held.get(cid)
      if (holding === undefined) pass.held.set(cid, [at])
      else holding.push(at)
    }
  }
  return pass
}

/**
 * An assigner that remembers the nodes it has seen and each CID's best-ranked ones: a later call
 * ranks only new CIDs over all nodes and new nodes over all CIDs. The result is what ranking every
 * CID over every node gives; it keeps about 340 bytes per CID (slabs() below).
 */
export function createAssigner(): Assigner {
  let universe = emptyUniverse()
  let ranks = new Map<string, Ranked>()
  let alloc = slabs()
  return {
    assign(entries, nodes, k, min = k) {
      // nodes gone for good would crowd the spares: start again when most of those known are absent
      if (universe.ids.length > 4 * nodes.length + 64) {
        universe = emptyUniverse()
        ranks = new Map()
        alloc = slabs()
      }
      const pass = startPass(universe, nodes, k, min)
      const assignment: Assignment = new Map()
      for (const entry of entries) {
        // two films may share a CID: it is placed (and takes room) once
        if (assignment.has(entry.cid)) continue
        let ranked = ranks.get(entry.cid)
        if (ranked === undefined || ranked.top.length !== spares(k)) {
          ranked = rankOver(universe, entry.cid, spares(k), alloc)
          ranks.set(entry.cid, ranked)
        }
        for (; ranked.seen < universe.ids.length; ranked.seen++) offer(universe, ranked, ranked.seen)
        const complete = ranked.count === universe.ids.length
        const chosen =
          choose(universe, pass, ranked, entry, complete) ??
          choose(universe, pass, rankOver(universe, entry.cid, universe.ids.length), entry, true)
        assignment.set(
          entry.cid,
          (chosen as number[]).map(node => universe.ids[node])
        )
      }
      // CIDs gone from the catalogue are forgotten once they are a good part of those kept
      if (ranks.size > 1.25 * assignment.size + 64) for (const cid of ranks.keys()) if (!assignment.has(cid)) ranks.delete(cid)
      return assignment
    }
  }
}

/**
 * Assigns each CID, in catalogue order, to at most `k` nodes that have room left in their quota and
 * have not failed it (see choose: its place first, then present holders, then, under `min` present
 * copies, live nodes outside its place). A CID that does not fit a node passes to the next in rank, so
 * the factor holds as long as the node set has the room. `min` defaults to k: with every node live,
 * the plain rendezvous assignment. Pure and deterministic.
 */
export function assign(entries: AssignableEntry[], nodes: AssignableNode[], k: number, min = k): Assignment {
  return createAssigner().assign(entries, nodes, k, min)
}

/** The CIDs assigned to one node, in catalogue order. */
export function assignedTo(assignment: Assignment, nodeId: string): string[] {
  return [...assignment].flatMap(([cid, holders]) => (holders.includes(nodeId) ? [cid] : []))
}
