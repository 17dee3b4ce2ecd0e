// A storage node's replication loop: the catalogue, assigned over the live node set, becomes this
// node's replicas. Each pass pins what is assigned here (within the quota, outside quiet hours),
// provides it on the DHT, and releases what is no longer assigned here once the k nodes it is
// assigned to have confirmed holding it: surplus goes only after the new copies are confirmed.
import type { FastifyBaseLogger } from 'fastify'
import cron, { type ScheduledTask } from 'node-cron'
import { CID } from 'multiformats/cid'
import type { StorageNode } from '../storage/helia-node.ts'
import { isPinned } from '../storage/content.ts'
import type { StateDb } from '../storage/state-db.ts'
import type { SettingsStore } from '../settings/settings.ts'
import { coalescedRuns } from '../lib/coalesced-runs.ts'
import { repeatedWarning } from '../lib/repeated-warning.ts'
import type { Catalogue, CatalogueEntry } from './catalogue.ts'
import type { NodeSet } from './node-set.ts'
import type { QuietHours } from './quiet-hours.ts'
import { assignedTo, createAssigner, type Assigner, type Assignment } from './assignment.ts'
import { libraryCatalogueCids } from './library-pins.ts'
import { replicaBytes, replicaList, type ReplicaList } from './replica-list.ts'
import { createReplicaPins, type ReplicaPins } from './replica-pins.ts'
import { createSurplusRelease, type OtherPins } from './surplus-release.ts'

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
  /** Copies on present nodes under which a CID is given to nodes outside its place (assignment.ts). */
  minReplicas: number
  /** How often the registry is read and the replicas reconciled. */
  pollMs: number
  /** A pin that receives no block for this long gives up until the next pass. */
  pinStallMs: number
  /** Pins the box keeps for others than the network (the Pinning Service API's): their bytes come off the quota. */
  otherPins?: OtherPins
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
  /** Called after a replica is pinned or released here (what the health report's `held` says changed). */
  onHeldChange(listener: () => void): () => void
  close(): Promise<void>
}

/**
 * Released replicas' blocks stay on disk until the daily garbage collection (local time, node-cron):
 * one assigned here again in the meantime comes back without a fetch.
 */
const GC_SCHEDULE = '30 3 * * *'

export function createReplicator(opts: ReplicatorOptions): Replicator {
  const { helia, nodes, quietHours, selfId, log } = opts
  const closing = new AbortController()
  const replicas = replicaList(opts.db)
  const heldListeners = new Set<() => void>()
  const heldChanged = (): void => {
    for (const listener of heldListeners) listener()
  }
  const pins = createReplicaPins({ helia, replicas, pinStallMs: opts.pinStallMs, closing: closing.signal, onPinned: heldChanged, log })
  const releaseSurplus = createSurplusRelease({ ...opts, replicas, closing: closing.signal, onReleased: heldChanged })
  // kept across passes: a pass whose node set did not change ranks nothing again
  const assigner = createAssigner()
  let mine: string[] = []
  let timer: NodeJS.Timeout | undefined

  async function pass(): Promise<void> {
    const settings = await opts.settings.get()
    const enabled = settings.replication.enabled
    const entries = await opts.catalogue.entries()
    const sizes = new Map(entries.map(e => [e.cid, e.bytes]))
    const assigned = assignments(opts, assigner, entries, enabled ? settings.storageQuotaBytes : undefined)
    mine = assigned.mine
    const { agreed } = assigned
    const library = await libraryCatalogueCids(opts.db)
    const held = await replicas.get()

    // releases first: they are quick, and a slow pin must not hold them up
    // (a node the registry has not listed yet has nothing agreed to release)
    if (nodes.fresh() && agreed !== undefined)
      await releaseSurplus(agreed, new Set(mine), held, library, await opts.catalogue.retiredCids())
    // in quiet hours nothing is fetched for others (the catalogue goes on reading each new film's
    // metadata, a few KiB: that is this box's own bookkeeping)
    if (enabled && !quietHours.quiet()) {
      const quota = settings.storageQuotaBytes - ((await opts.otherPins?.bytes()) ?? 0)
      await pins.pinAssigned(entries, new Set(mine), held, library, sizes, quota)
    }
  }

  const passFailed = repeatedWarning(log, 'replication pass failed; retrying at the next poll')
  const passes = coalescedRuns(async () => {
    try {
      await pass()
    } catch (err) {
      if (!closing.signal.aborted) passFailed.warn({ err: (err as Error).message })
    }
    return !closing.signal.aborted
  })
  const reconcile = passes.request

  async function poll(): Promise<void> {
    await nodes.refresh(closing.signal)
    nodes.connect()
    await reconcile()
    if (!closing.signal.aborted) timer = setTimeout(poll, opts.pollMs)
  }

  const collecting = scheduleGarbageCollection(helia, selfId, closing.signal, log)
  const unsubscribe = followChanges(opts, pins, reconcile)

  return {
    start() {
      timer = setTimeout(poll, 0)
    },
    reconcile,
    status: async () => await replicationStatus(opts, replicas, mine),
    onHeldChange(listener) {
      heldListeners.add(listener)
      return () => heldListeners.delete(listener)
    },
    async close() {
      closing.abort()
      pins.close()
      clearTimeout(timer)
      await collecting.destroy()
      for (const off of unsubscribe) off()
      await passes.settled()
    }
  }
}

/**
 * What to hold by this node's own settings now (`ownQuota`: undefined when it replicates nothing):
 * the pins follow it at once, within the quota. And what every node computes, with this node as its
 * latest report shows it (undefined before the registry lists it): releases follow this one, so that
 * a node whose own settings just changed and the nodes that do not know it yet never each count on
 * the other's copy.
 */
function assignments(
  opts: ReplicatorOptions,
  assigner: Assigner,
  entries: CatalogueEntry[],
  ownQuota: number | undefined
): { mine: string[]; agreed: Assignment | undefined } {
  const { nodes, replicationFactor, minReplicas } = opts
  const listed = nodes.listedSelf()
  const self = ownQuota === undefined ? undefined : { quotaBytes: ownQuota, presence: 'live' as const }
  return {
    mine: assignedTo(assigner.assign(entries, nodes.assignable(self), replicationFactor, minReplicas), opts.selfId),
    agreed: listed === null ? undefined : assigner.assign(entries, nodes.assignable(listed), replicationFactor, minReplicas)
  }
}

/** A pass as soon as the catalogue or the settings change or quiet hours end; pins stop when replication is turned off or quiet hours begin. */
function followChanges(opts: ReplicatorOptions, pins: ReplicaPins, reconcile: () => Promise<void>): Array<() => void> {
  return [
    opts.catalogue.onChange(() => void reconcile()),
    opts.settings.onChange(settings => {
      if (!settings.replication.enabled) pins.stop()
      void reconcile()
    }),
    opts.quietHours.onChange(quiet => {
      if (quiet) pins.stop()
      else void reconcile()
    })
  ]
}

function scheduleGarbageCollection(helia: StorageNode, selfId: string, closing: AbortSignal, log: FastifyBaseLogger): ScheduledTask {
  return cron.schedule(
    GC_SCHEDULE,
    async () => {
      await helia.gc({ signal: closing }).catch(err => log.warn({ err: (err as Error).message }, 'garbage collection failed'))
    },
    { name: `seed-one-gc-${selfId}`, noOverlap: true, unref: true }
  )
}

/** The replicator's figures: what it holds of the catalogue, and of what is assigned here (`mine`). */
async function replicationStatus(opts: ReplicatorOptions, replicas: ReplicaList, mine: string[]): Promise<ReplicationStatus> {
  const settings = await opts.settings.get()
  const entries = await opts.catalogue.entries()
  const library = await libraryCatalogueCids(opts.db)
  const pinned = new Set<string>()
  for (const entry of entries) if (await isPinned(opts.helia, CID.parse(entry.cid))) pinned.add(entry.cid)
  const replicasHeld = new Set([...(await replicas.get())].filter(c => pinned.has(c)))
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
}
