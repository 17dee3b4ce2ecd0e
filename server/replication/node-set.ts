// The live node set the catalogue is assigned over: the monitor's registry, polled, and the peers
// this box sees over libp2p (the DHT, mDNS, the registry's own addresses, dialled here).
//
// A node the registry lists resting (silent inside a window it announced) or gone keeps its place in
// the assignment's rank, and its copies count while it rests (assignment.ts: repair with a margin).
//
// When the monitor cannot be reached, the last registry snapshot is kept (on disk too, so a restart
// without the monitor still knows the network). Once it is older than STALE_POLLS polls, a node
// counts as live when this box is connected to it (a rack's nodes all dial each other, so their
// views agree), and nothing is released: only a fresh registry confirms that others hold a copy.
// A node the registry has never listed takes no share: its quota is not known, and every node
// must compute the same assignment.
import { Ajv } from 'ajv'
import type { FastifyBaseLogger } from 'fastify'
import type { Libp2p } from '@libp2p/interface'
import { multiaddr } from '@multiformats/multiaddr'
import { NODES_PATH, type RegistryNode } from '../wire/monitor-protocol.ts'
import type { Store } from '../storage/state-db.ts'
import type { AssignableNode, Presence } from './assignment.ts'
import { PEER_URL_PATTERN } from '../lib/peer-url.ts'

declare module '../storage/state-db.ts' {
  interface StateSchema {
    /** The last registry read from the monitor, and the CIDs the replicator pinned for the network. */
    replication: { registry: RegistrySnapshot; replicas: string[] }
  }
}

export interface RegistrySnapshot {
  /** When the monitor last answered (this box's clock). */
  fetchedAt: string
  nodes: RegistryNode[]
}

export interface NodeSetOptions {
  /** Unset: no monitor; the node set is this node alone. */
  monitorUrl?: string
  /** How often the registry is read; it is stale after STALE_POLLS of these without an answer. */
  pollMs: number
  /** Where the last snapshot is kept across restarts (the 'replication' section). */
  store: Store<'replication'>
  libp2p: Libp2p
  selfId: string
  log: FastifyBaseLogger
}

export interface NodeSet {
  /** Reads the registry; false when the monitor did not answer (the last snapshot stays). */
  refresh(signal?: AbortSignal): Promise<boolean>
  /** True while the snapshot is recent enough to confirm who holds what. */
  fresh(): boolean
  /** Storage nodes other than this one that are live and replicating now. */
  others(): RegistryNode[]
  /**
   * The nodes to assign over: every other replicating storage node listed, live, resting or gone, with
   * the copies the registry says it holds; and, when `self` is set, this node so, with the CIDs it failed.
   */
  assignable(self: ListedSelf | undefined): AssignableNode[]
  /** This node as the other nodes see it now (its latest report), undefined when they leave it out (not replicating); null when never listed. */
  listedSelf(): ListedSelf | undefined | null
  /** Dials live nodes this box is not connected to, so bitswap can fetch from them and serve them. */
  connect(): void
}

/** This node's quota and presence, as given to the assignment. */
export interface ListedSelf {
  quotaBytes: number
  presence: Presence
}

export class RegistryError extends Error {
  override name = 'RegistryError'
}

const STALE_POLLS = 3
const FETCH_TIMEOUT_MS = 10_000
const DIAL_TIMEOUT_MS = 5_000
/** Where the last registry snapshot is kept, in the 'replication' section. */
export const SNAPSHOT_KEY = 'registry'

const stringList = { type: 'array', items: { type: 'string' } }
const validateRegistry = new Ajv().compile<{ nodes: RegistryNode[] }>({
  type: 'object',
  required: ['nodes'],
  properties: {
    nodes: {
      type: 'array',
      items: {
        type: 'object',
        required: ['deviceId', 'apiUrl', 'multiaddrs', 'roles', 'live', 'replicating', 'quotaBytes', 'held', 'failed'],
        properties: {
          deviceId: { type: 'string', minLength: 1 },
          apiUrl: { type: 'string', pattern: PEER_URL_PATTERN },
          multiaddrs: stringList,
          roles: stringList,
          live: { type: 'boolean' },
          resting: { type: 'boolean' },
          replicating: { type: 'boolean' },
          quotaBytes: { type: 'number', minimum: 0 },
          held: stringList,
          failed: stringList
        }
      }
    }
  }
})

/** A registry as read, with the monitor's ETag for it (absent from monitors before ETags). */
export interface RegistryCopy {
  nodes: RegistryNode[]
  etag?: string
}

/**
 * The monitor's registry, checked; `last` (the copy from the previous read) is asked for by its ETag
 * and kept when the monitor answers 304. fetch asks for gzip and inflates it by itself.
 */
export async function fetchRegistry(monitorUrl: string, signal?: AbortSignal, last?: RegistryCopy): Promise<RegistryCopy> {
  const response = await fetch(`${monitorUrl}${NODES_PATH}`, {
    headers: last?.etag !== undefined ? { 'if-none-match': last.etag } : {},
    signal: AbortSignal.any([AbortSignal.timeout(FETCH_TIMEOUT_MS), ...(signal === undefined ? [] : [signal])])
  })
  if (response.status === 304 && last !== undefined) return last
  if (!response.ok) throw new RegistryError(`the monitor answered ${response.status}`)
  const body: unknown = await response.json()
  if (!validateRegistry(body))
    throw new RegistryError(`the monitor's registry is malformed: ${JSON.stringify(validateRegistry.errors?.[0])}`)
  return { nodes: body.nodes, ...(response.headers.has('etag') ? { etag: response.headers.get('etag') as string } : {}) }
}

// The decisions below are pure functions of a registry snapshot, so that bench/network-sim.ts runs
// them for thousands of simulated nodes without libp2p.

/** The storage nodes other than `selfId` that replicate and are `present` (by default, whatever their presence). */
export function otherStorageNodes(
  registry: RegistryNode[],
  selfId: string,
  present: (node: RegistryNode) => boolean = () => true
): RegistryNode[] {
  return registry.filter(node => node.deviceId !== selfId && node.roles.includes('storage') && node.replicating && present(node))
}

/** A listed node's presence by a fresh registry. */
export const registryPresence = (node: RegistryNode): Presence => (node.live ? 'live' : node.resting === true ? 'resting' : 'gone')

/**
 * The nodes to assign over: `listed` (every other replicating storage node, live, resting or gone) with
 * their presence and the copies the registry says they hold; and, when `self` is set, this node so,
 * with the CIDs the registry says it failed and holds.
 */
export function assignableNodes(
  listed: RegistryNode[],
  registry: RegistryNode[],
  selfId: string,
  presence: (node: RegistryNode) => Presence,
  self: ListedSelf | undefined
): AssignableNode[] {
  const nodes: AssignableNode[] = listed.map(node => ({
    deviceId: node.deviceId,
    quotaBytes: node.quotaBytes,
    failed: node.failed,
    presence: presence(node),
    held: node.held
  }))
  if (self !== undefined) {
    const asListed = registry.find(node => node.deviceId === selfId)
    nodes.push({ deviceId: selfId, ...self, failed: asListed?.failed ?? [], held: asListed?.held ?? [] })
  }
  return nodes
}

/** This node as the registry lists it: undefined when it is not replicating; null when never listed. */
export function listedSelfOf(
  registry: RegistryNode[],
  selfId: string,
  presence: (node: RegistryNode) => Presence
): ListedSelf | undefined | null {
  const asListed = registry.find(node => node.deviceId === selfId)
  if (asListed === undefined) return null
  return asListed.replicating ? { quotaBytes: asListed.quotaBytes, presence: presence(asListed) } : undefined
}

export async function createNodeSet(opts: NodeSetOptions): Promise<NodeSet> {
  const { libp2p, selfId } = opts
  let snapshot = await opts.store.get(SNAPSHOT_KEY)
  const { log } = opts
  const dialling = new Set<string>()
  /** Whether the last read of the registry worked: a change either way is logged once. */
  let reachable = true
  /** The last registry read, asked for again by its ETag. */
  let lastRead: RegistryCopy | undefined

  const fresh = (): boolean => snapshot !== undefined && Date.now() - Date.parse(snapshot.fetchedAt) < STALE_POLLS * opts.pollMs
  const connected = (deviceId: string): boolean => libp2p.getConnections().some(c => c.remotePeer.toString() === deviceId)
  // without a fresh registry, a node is live when connected here, and nothing is known of rest
  const presence = (node: RegistryNode): Presence => (fresh() ? registryPresence(node) : connected(node.deviceId) ? 'live' : 'gone')
  const others = (): RegistryNode[] => otherStorageNodes(snapshot?.nodes ?? [], selfId, node => presence(node) === 'live')

  return {
    async refresh(signal) {
      if (opts.monitorUrl === undefined) return false
      try {
        lastRead = await fetchRegistry(opts.monitorUrl, signal, lastRead)
        const { nodes } = lastRead
        const changed = JSON.stringify(nodes) !== JSON.stringify(snapshot?.nodes)
        snapshot = { fetchedAt: new Date().toISOString(), nodes }
        // the snapshot on disk is for a restart without the monitor: its nodes matter, not each poll's time
        if (changed) await opts.store.put(SNAPSHOT_KEY, snapshot)
        if (!reachable) log.info({ monitor: opts.monitorUrl }, 'the monitor gives its registry again')
        reachable = true
        return true
      } catch (err) {
        if (signal?.aborted === true) return false
        if (reachable) {
          log.warn(
            { monitor: opts.monitorUrl, err: (err as Error).message },
            'the monitor does not give its registry: assigning over the last one, releasing nothing until it is back'
          )
        }
        reachable = false
        return false
      }
    },
    fresh,
    others,
    assignable: self => assignableNodes(otherStorageNodes(snapshot?.nodes ?? [], selfId), snapshot?.nodes ?? [], selfId, presence, self),
    listedSelf: () => listedSelfOf(snapshot?.nodes ?? [], selfId, presence),
    connect() {
      for (const node of (snapshot?.nodes ?? []).filter(n => n.deviceId !== selfId && n.live)) {
        if (connected(node.deviceId) || dialling.has(node.deviceId) || node.multiaddrs.length === 0) continue
        dialling.add(node.deviceId)
        libp2p
          .dial(
            node.multiaddrs.map(address => multiaddr(address)),
            { signal: AbortSignal.timeout(DIAL_TIMEOUT_MS) }
          )
          .catch(err => log.debug({ deviceId: node.deviceId, err: (err as Error).message }, 'could not dial a storage node'))
          .finally(() => dialling.delete(node.deviceId))
      }
    }
  }
}
