// Releasing what is no longer assigned here, only once the nodes it is assigned to hold it: surplus
// goes only after the new copies are confirmed. A retired film's replicas go without: nobody keeps them.
import type { FastifyBaseLogger } from 'fastify'
import { CID } from 'multiformats/cid'
import type { StorageNode } from '../storage/helia-node.ts'
import { isPinned } from '../storage/content.ts'
import type { NodeSet } from './node-set.ts'
import type { Assignment } from './assignment.ts'
import type { ReplicaList } from './replica-list.ts'
import { createReleaseConfirmations } from './release-confirmation.ts'
import { unpinLocal } from './local-unpin.ts'

/** Pins the box keeps for others than the network: a released replica leaves theirs in place. */
export interface OtherPins {
  /** File bytes they hold. */
  bytes(): Promise<number>
  /** Whether they hold `cid`. */
  holds(cid: string): Promise<boolean>
}

export interface SurplusReleaseOptions {
  helia: StorageNode
  nodes: NodeSet
  replicas: ReplicaList
  /** This node's device id (its libp2p peer id). */
  selfId: string
  replicationFactor: number
  /** Aborted at shutdown: ends an unpin under way. */
  closing: AbortSignal
  otherPins?: OtherPins
  /** A replica was released here. */
  onReleased?(): void
  log: FastifyBaseLogger
}

/**
 * Releases the replicas assigned here by neither view once every one of the k nodes the agreed
 * assignment gives them to holds them, by the registry (release-confirmation.ts). Only those nodes
 * count: they keep what is assigned to them, while a node that merely held a copy may be releasing it too.
 * The replicas of `retired` films are released at once.
 */
export type SurplusRelease = (
  agreed: Assignment,
  mine: Set<string>,
  held: Set<string>,
  library: Set<string>,
  retired: Set<string>
) => Promise<void>

/**
 * The replicas held here that the agreed assignment gives to other nodes only and this node's own
 * view does not keep either: the ones to release once confirmed. A CID gone from the catalogue is
 * kept: it comes back when the catalogue has read its film again.
 */
export function surplusReplicas(agreed: Assignment, mine: Set<string>, held: Set<string>, selfId: string): string[] {
  return [...held].filter(c => {
    const holders = agreed.get(c)
    return holders !== undefined && !holders.includes(selfId) && !mine.has(c)
  })
}

export function createSurplusRelease(opts: SurplusReleaseOptions): SurplusRelease {
  const { helia, nodes, selfId, log } = opts
  const confirmations = createReleaseConfirmations(opts.replicationFactor)
  const cid = (text: string): CID => CID.parse(text)
  return async (agreed, mine, held, library, retired) => {
    const others = new Map(nodes.others().map(node => [node.deviceId, node]))
    const surplus = new Set(surplusReplicas(agreed, mine, held, selfId))
    for (const c of [...held]) {
      const holders = agreed.get(c) ?? []
      if (!surplus.has(c) && !retired.has(c)) {
        confirmations.forget(c)
        continue
      }
      // the library keeps its own pin; a replica never completed here is no copy to guard
      if (!library.has(c) && (await isPinned(helia, cid(c)))) {
        if (!retired.has(c) && !confirmations.confirmed(c, holders, others)) continue
        if ((await opts.otherPins?.holds(c)) !== true) {
          await unpinLocal(helia, cid(c), opts.closing)
          await helia.routing.cancelReprovide(cid(c)).catch(() => {})
        }
        if (retired.has(c)) log.info({ cid: c }, "a retired film's replica released")
        else log.info({ cid: c, holders }, 'surplus replica released')
        opts.onReleased?.()
      }
      confirmations.forget(c)
      held.delete(c)
      await opts.replicas.save(held)
    }
  }
}
