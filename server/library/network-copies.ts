import type { FastifyBaseLogger } from 'fastify'
import type { StorageNode } from '../storage/helia-node.ts'
import { CID } from 'multiformats/cid'
import { NODES_PATH, type RegistryNode } from '../wire/monitor-protocol.ts'

/**
 * How many copies of a film other nodes of the network hold, for the Film screen ("the film is
 * safe"). Answers come from a cache and never wait for the network: a stale or missing entry starts
 * a look-up in the background, one at a time, and the answer shows on the next read.
 */
export interface NetworkCopies {
  /** Nodes other than this one that hold `cid` in full, as last found; null when not known (yet). */
  count(cid: string): number | null
  close(): void
}

export interface NetworkCopiesOptions {
  helia: StorageNode
  /** This node's peer id (device id): its own copy is not a network copy. */
  selfId: string
  /** When set, the monitor's registry of live nodes is asked instead of the DHT. */
  monitorUrl?: string
  /** How long an answer is kept. */
  ttlMs?: number
  /** How long one look-up may take. */
  timeoutMs?: number
  log: FastifyBaseLogger
}

/** One look-up: the number of holders other than this node, or null when the answer is not conclusive. */
type Lookup = (cid: string, signal: AbortSignal) => Promise<number | null>

const DEFAULT_TTL_MS = 5 * 60_000
const DEFAULT_TIMEOUT_MS = 10_000

export function createNetworkCopies(opts: NetworkCopiesOptions): NetworkCopies {
  const ttlMs = opts.ttlMs ?? DEFAULT_TTL_MS
  const timeoutMs = opts.timeoutMs ?? DEFAULT_TIMEOUT_MS
  const lookup = opts.monitorUrl === undefined ? dhtLookup(opts.helia, opts.selfId) : monitorLookup(opts.monitorUrl, opts.selfId, ttlMs)
  const known = new Map<string, { copies: number | null; at: number }>()
  const queued = new Set<string>()
  const closing = new AbortController()
  let running: Promise<void> | undefined

  async function drain(): Promise<void> {
    while (queued.size > 0 && !closing.signal.aborted) {
      const [cid] = queued
      let copies: number | null
      try {
        copies = await lookup(cid, AbortSignal.any([closing.signal, AbortSignal.timeout(timeoutMs)]))
      } catch (err) {
        opts.log.debug({ cid, err: (err as Error).message }, 'could not count the network copies')
        copies = null
      }
      queued.delete(cid)
      known.set(cid, { copies, at: Date.now() })
    }
  }

  return {
    count(cid) {
      const entry = known.get(cid)
      if ((entry === undefined || Date.now() - entry.at > ttlMs) && !closing.signal.aborted) {
        queued.add(cid)
        running ??= drain().finally(() => {
          running = undefined
        })
      }
      return entry?.copies ?? null
    },
    close() {
      closing.abort()
    }
  }
}

/**
 * Providers the DHT lists for the CID. A query that times out counts what it found by then, unless
 * that is nothing; a node without DHT peers knows nothing.
 */
function dhtLookup(helia: StorageNode, selfId: string): Lookup {
  return async (cid, signal) => {
    const holders = new Set<string>()
    for await (const provider of helia.routing.findProviders(CID.parse(cid), { signal })) {
      const id = provider.id.toString()
      if (id !== selfId) holders.add(id)
    }
    if (holders.size === 0 && (signal.aborted || helia.libp2p.getPeers().length === 0)) return null
    return holders.size
  }
}

/** Live nodes of the monitor's registry that hold the CID and have not failed its challenges; one registry read serves every CID for a while. */
function monitorLookup(monitorUrl: string, selfId: string, ttlMs: number): Lookup {
  let registry: { nodes: RegistryNode[]; at: number } | undefined
  return async (cid, signal) => {
    if (registry === undefined || Date.now() - registry.at > ttlMs) {
      const response = await fetch(new URL(NODES_PATH, monitorUrl), { signal, headers: { accept: 'application/json' } })
      if (!response.ok) throw new Error(`the monitor answered ${response.status}`)
      const body = (await response.json()) as { nodes?: unknown }
      if (!Array.isArray(body.nodes)) throw new Error('the monitor sent no node list')
      registry = { nodes: body.nodes as RegistryNode[], at: Date.now() }
    }
    return registry.nodes.filter(
      node => node.live && node.deviceId !== selfId && node.held?.includes(cid) === true && node.failed?.includes(cid) !== true
    ).length
  }
}
