// A storage node's replication loop: the catalogue, assigned over the live node set, becomes this
// node's replicas. Each pass pins what is assigned here (within the quota, outside quiet hours),
// provides it on the DHT, and releases what is no longer assigned here once the k nodes it is
// assigned to have confirmed holding it: surplus goes only after the new copies are confirmed.
import type { FastifyBaseLogger } from 'fastify'
import cron from 'node-cron'
import { CID } from 'multiformats/cid'
import type { StorageNode } from '../storage/helia-node.ts'
import { isPinned, pinWithProgress } from '../storage/content.ts'
import { section, type StateDb } from '../storage/state-db.ts'
import type { SettingsStore } from '../settings/settings.ts'
import type { Catalogue, CatalogueEntry } from './catalogue.ts'
import type { NodeSet } from './node-set.ts'
import type { QuietHours } from './quiet-hours.ts'
import { assign, assignedTo, type Assignment } from './assignment.ts'
import { libraryCatalogueCids } from './library-pins.ts'
import { createReleaseConfirmations } from './release-confirmation.ts'
import { unpinLocal } from './local-unpin.ts'

export interface ReplicatorOptions {
  helia: StorageNode
  db: StateDb
  settings: SettingsStore
  catalogue: Catalogue
  nodes: NodeSet
  quietHours: QuietHours
  /** This node's device id (its libp2p peer id). */
  selfId: string
  replicationFactor: number
  /** How often the registry is read and the replicas reconciled. */
  pollMs: number
  /** A pin that receives no block for this long gives up until the next pass. */
  pinStallMs: number
  log: FastifyBaseLogger
}

/** What the replicator says of itself: the health report's `replication`, with the quota and what replicas use of it. */
export interface ReplicationStatus {
  enabled: boolean
  /** Catalogue CIDs this box holds in full (its library's and replicas). */
  held: string[]
  assigned: number
  met: number
  missing: number
  quotaBytes: number
  replicaBytes: number
}

export interface Replicator {
  start(): void
  /** One pass now (the tests' and the settings' way to not wait for the next poll). */
  reconcile(): Promise<void>
  status(): Promise<ReplicationStatus>
  close(): Promise<void>
}

const REPLICAS_KEY = 'replicas'
/**
 * Released replicas' blocks stay on disk until the daily garbage collection (local time, node-cron):
 * one assigned here again in the meantime comes back without a fetch. (Fetching again a block a
 * peer sent before is also where bitswap 4 is weak: the peer's record of that send can swallow the
 * new want until this node gives up and asks again.)
 */
const GC_SCHEDULE = '30 3 * * *'
const PROVIDE_TIMEOUT_MS = 60_000

export function createReplicator(opts: ReplicatorOptions): Replicator {
  const { helia, nodes, quietHours, selfId, log } = opts
  const replicaStore = section(opts.db, 'replication')
  const closing = new AbortController()
  /** Aborted to stop the pins of a pass (quiet hours begin, replication turned off, shutdown). */
  let pins = new AbortController()
  let mine: string[] = []
  let timer: NodeJS.Timeout | undefined
  let running: Promise<void> | undefined
  let again = false
  const confirmations = createReleaseConfirmations(opts.replicationFactor)

  const replicas = async (): Promise<Set<string>> => new Set((await replicaStore.get(REPLICAS_KEY)) ?? [])
  const saveReplicas = async (cids: Set<string>): Promise<void> => await replicaStore.put(REPLICAS_KEY, [...cids])
  const cid = (text: string): CID => CID.parse(text)

  /** Bytes the replicas take: those the library does not also pin, at their catalogue size. */
  function replicaBytes(held: Set<string>, library: Set<string>, sizes: Map<string, number>): number {
    let bytes = 0
    for (const c of held) if (!library.has(c)) bytes += sizes.get(c) ?? 0
    return bytes
  }

  async function pass(): Promise<void> {
    const settings = await opts.settings.get()
    const enabled = settings.replication.enabled
    const entries = await opts.catalogue.entries()
    const sizes = new Map(entries.map(e => [e.cid, e.bytes]))
    // What to hold by this node's own settings now; the pins follow it at once, within the quota.
    const ownQuota = enabled ? settings.storageQuotaBytes : undefined
    mine = assignedTo(assign(entries, nodes.assignable(ownQuota), opts.replicationFactor), selfId)
    // What every node computes, with this node as its latest report shows it: releases follow this
    // one, so that a node whose own settings just changed and the nodes that do not know it yet never
    // each count on the other's copy.
    const listed = nodes.listedQuota()
    const agreed = listed === null ? undefined : assign(entries, nodes.assignable(listed), opts.replicationFactor)
    const library = await libraryCatalogueCids(opts.db)
    const held = await replicas()

    // releases first: they are quick, and a slow pin must not hold them up
    // (a node the registry has not listed yet has nothing agreed to release)
    if (nodes.fresh() && agreed !== undefined) await releaseSurplus(agreed, new Set(mine), held, library)
    // in quiet hours nothing is fetched for others (the catalogue goes on reading each new film's
    // metadata, a few KiB: that is this box's own bookkeeping)
    if (enabled && !quietHours.quiet()) await pinAssigned(entries, new Set(mine), held, library, sizes, settings.storageQuotaBytes)
  }

  async function pinAssigned(
    entries: CatalogueEntry[],
    assigned: Set<string>,
    held: Set<string>,
    library: Set<string>,
    sizes: Map<string, number>,
    quotaBytes: number
  ): Promise<void> {
    // kept up to date as `held` grows, rather than summed again for every entry
    let usedBytes = replicaBytes(held, library, sizes)
    for (const entry of entries) {
      if (!assigned.has(entry.cid) || library.has(entry.cid) || pins.signal.aborted) continue
      if (held.has(entry.cid) && (await isPinned(helia, cid(entry.cid)))) continue
      if (!held.has(entry.cid)) {
        if (usedBytes + entry.bytes > quotaBytes) continue
        usedBytes += sizes.get(entry.cid) ?? 0
      }
      // recorded before the pin starts, so a pin cut short (even by a crash) is finished or released later
      held.add(entry.cid)
      await saveReplicas(held)
      if (await pinOne(entry)) provide(entry.cid)
    }
  }

  /** Pins one CID, fetching it from the nodes that hold it; false when it stalled or was stopped (retried next pass). */
  async function pinOne(entry: CatalogueEntry): Promise<boolean> {
    const stopped = pins.signal
    const stall = new AbortController()
    const timer = setTimeout(() => stall.abort(), opts.pinStallMs)
    try {
      // the catalogue's size is what the film declares (its metadata's length, its sealedBytes): a DAG holding another is refused
      const bound = { what: `film ${entry.tokenId}'s ${entry.kind}`, bytes: entry.bytes, exact: true }
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

  function provide(text: string): void {
    helia.routing.provide(cid(text), { signal: AbortSignal.any([closing.signal, AbortSignal.timeout(PROVIDE_TIMEOUT_MS)]) }).catch(err => {
      log.debug({ cid: text, err: (err as Error).message }, 'could not provide on the DHT')
    })
  }

  /**
   * Releases the replicas assigned here by neither view once every one of the k nodes the agreed
   * assignment gives them to holds them, by the registry (release-confirmation.ts). Only those nodes
   * count: they keep what is assigned to them, while a node that merely held a copy may be releasing it too.
   */
  async function releaseSurplus(agreed: Assignment, mine: Set<string>, held: Set<string>, library: Set<string>): Promise<void> {
    const others = new Map(nodes.others().map(node => [node.deviceId, node]))
    for (const c of [...held]) {
      const holders = agreed.get(c)
      // a CID gone from the catalogue is kept: it comes back when the catalogue has read its film again
      if (holders === undefined || holders.includes(selfId) || mine.has(c)) {
        confirmations.forget(c)
        continue
      }
      // the library keeps its own pin; a replica never completed here is no copy to guard
      if (!library.has(c) && (await isPinned(helia, cid(c)))) {
        if (!confirmations.confirmed(c, holders, others)) continue
        await unpinLocal(helia, cid(c), closing.signal)
        await helia.routing.cancelReprovide(cid(c)).catch(() => {})
        log.info({ cid: c, holders }, 'surplus replica released')
      }
      confirmations.forget(c)
      held.delete(c)
      await saveReplicas(held)
    }
  }

  function reconcile(): Promise<void> {
    if (running !== undefined) {
      again = true
      return running
    }
    running = (async () => {
      do {
        again = false
        try {
          await pass()
        } catch (err) {
          if (!closing.signal.aborted) log.warn({ err: (err as Error).message }, 'replication pass failed; retrying at the next poll')
        }
      } while (again && !closing.signal.aborted)
    })().finally(() => {
      running = undefined
    })
    return running
  }

  /** Stops the pins in progress; the next pass decides again what to pin. */
  function stopPins(): void {
    pins.abort()
    pins = new AbortController()
  }

  async function poll(): Promise<void> {
    await nodes.refresh(closing.signal)
    nodes.connect()
    await reconcile()
    if (!closing.signal.aborted) timer = setTimeout(poll, opts.pollMs)
  }

  const collecting = cron.schedule(
    GC_SCHEDULE,
    async () => {
      await helia.gc({ signal: closing.signal }).catch(err => log.warn({ err: (err as Error).message }, 'garbage collection failed'))
    },
    { name: `seed-one-gc-${selfId}`, noOverlap: true, unref: true }
  )

  const unsubscribe = [
    opts.catalogue.onChange(() => void reconcile()),
    opts.settings.onChange(settings => {
      if (!settings.replication.enabled) stopPins()
      void reconcile()
    }),
    quietHours.onChange(quiet => {
      if (quiet) stopPins()
      else void reconcile()
    })
  ]

  return {
    start() {
      timer = setTimeout(poll, 0)
    },
    reconcile,
    async status() {
      const settings = await opts.settings.get()
      const entries = await opts.catalogue.entries()
      const library = await libraryCatalogueCids(opts.db)
      const pinned = new Set<string>()
      for (const entry of entries) if (await isPinned(helia, cid(entry.cid))) pinned.add(entry.cid)
      const replicasHeld = new Set([...(await replicas())].filter(c => pinned.has(c)))
      const met = mine.filter(c => pinned.has(c)).length
      return {
        enabled: settings.replication.enabled,
        held: [...pinned],
        assigned: mine.length,
        met,
        missing: mine.length - met,
        quotaBytes: settings.storageQuotaBytes,
        replicaBytes: replicaBytes(replicasHeld, library, new Map(entries.map(e => [e.cid, e.bytes])))
      }
    },
    async close() {
      closing.abort()
      pins.abort()
      clearTimeout(timer)
      await collecting.destroy()
      for (const off of unsubscribe) off()
      await running
    }
  }
}
