// Pinning what is assigned here: within the quota, in catalogue order, each replica fetched from the
// nodes that hold it and provided on the DHT once held.
import type { FastifyBaseLogger } from 'fastify'
import { CID } from 'multiformats/cid'
import type { StorageNode } from '../storage/helia-node.ts'
import { isPinned, pinWithProgress } from '../storage/content.ts'
import type { CatalogueEntry } from './catalogue.ts'
import { replicaBytes, type ReplicaList } from './replica-list.ts'

export interface ReplicaPinsOptions {
  helia: StorageNode
  replicas: ReplicaList
  /** A pin that receives no block for this long gives up until the next pass. */
  pinStallMs: number
  /** Aborted at shutdown: ends the DHT provides still under way. */
  closing: AbortSignal
  /** A replica was pinned in full here. */
  onPinned?(): void
  log: FastifyBaseLogger
}

export interface ReplicaPins {
  /** Pins, within `quotaBytes`, the assigned CIDs that are not the library's and not held in full yet. */
  pinAssigned(
    entries: CatalogueEntry[],
    assigned: Set<string>,
    held: Set<string>,
    library: Set<string>,
    sizes: Map<string, number>,
    quotaBytes: number
  ): Promise<void>
  /** Stops the pins in progress (quiet hours begin, replication turned off); the next pass decides again what to pin. */
  stop(): void
  /** Stops the pins in progress for good (shutdown). */
  close(): void
}

const PROVIDE_TIMEOUT_MS = 60_000
const cid = (text: string): CID => CID.parse(text)

export function createReplicaPins(opts: ReplicaPinsOptions): ReplicaPins {
  const { helia, log } = opts
  /** Aborted to stop the pins of a pass. */
  let pins = new AbortController()
  return {
    async pinAssigned(entries, assigned, held, library, sizes, quotaBytes) {
      for (const { entry, resumed } of pinCandidates(entries, assigned, held, library, sizes, quotaBytes)) {
        if (pins.signal.aborted) break
        if (resumed && (await isPinned(helia, cid(entry.cid)))) continue
        // recorded before the pin starts, so a pin cut short (even by a crash) is finished or released later
        held.add(entry.cid)
        await opts.replicas.save(held)
        if (await pinOne(helia, entry, pins.signal, opts.pinStallMs, log)) {
          provide(helia, entry.cid, opts.closing, log)
          opts.onPinned?.()
        }
      }
    },
    stop() {
      pins.abort()
      pins = new AbortController()
    },
    close() {
      pins.abort()
    }
  }
}

/**
 * The assigned entries to pin, in catalogue order, that are not the library's: those held already
 * (`resumed`: a pin cut short, or one complete, which the caller checks) and new ones while the quota
 * has room. Lazy: the caller adds each entry to `held` as it starts its pin, and a CID listed twice
 * is then seen as held.
 */
export function* pinCandidates(
  entries: CatalogueEntry[],
  assigned: Set<string>,
  held: Set<string>,
  library: Set<string>,
  sizes: Map<string, number>,
  quotaBytes: number
): Generator<{ entry: CatalogueEntry; resumed: boolean }> {
  // kept up to date as `held` grows, rather than summed again for every entry
  let usedBytes = replicaBytes(held, library, sizes)
  for (const entry of entries) {
    if (!assigned.has(entry.cid) || library.has(entry.cid)) continue
    if (held.has(entry.cid)) {
      yield { entry, resumed: true }
      continue
    }
    if (usedBytes + entry.bytes > quotaBytes) continue
    usedBytes += sizes.get(entry.cid) ?? 0
    yield { entry, resumed: false }
  }
}

/** Pins one CID, fetching it from the nodes that hold it; false when it stalled or was stopped (retried next pass). */
async function pinOne(
  helia: StorageNode,
  entry: CatalogueEntry,
  stopped: AbortSignal,
  pinStallMs: number,
  log: FastifyBaseLogger
): Promise<boolean> {
  const stall = new AbortController()
  const timer = setTimeout(() => stall.abort(), pinStallMs)
  try {
    // the catalogue's size is what the film declares (its metadata's length, its sealedBytes): a DAG holding another is refused
    const bound = { what: `film ${entry.tokenId}'s ${entry.name}`, bytes: entry.bytes, exact: true }
    await pinWithProgress(helia, cid(entry.cid), {
      bound,
      signal: AbortSignal.any([stopped, stall.signal]),
      onProgress: () => timer.refresh()
    })
    log.info({ cid: entry.cid, tokenId: entry.tokenId, kind: entry.kind }, 'replica pinned')
    return true
  } catch (err) {
    if (!stopped.aborted) {
      log.warn(
        {
          cid: entry.cid,
          err: stall.signal.aborted ? 'no block arrived in time' : (err as Error).message,
          peersConnected: helia.libp2p.getPeers().length
        },
        'replica not pinned yet'
      )
    }
    return false
  } finally {
    clearTimeout(timer)
  }
}

function provide(helia: StorageNode, text: string, closing: AbortSignal, log: FastifyBaseLogger): void {
  helia.routing.provide(cid(text), { signal: AbortSignal.any([closing, AbortSignal.timeout(PROVIDE_TIMEOUT_MS)]) }).catch(err => {
    log.debug({ cid: text, err: (err as Error).message }, 'could not provide on the DHT')
  })
}
