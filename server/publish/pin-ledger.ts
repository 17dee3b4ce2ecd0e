// The roots one publish pinned that were not pinned before it, so that a publish that fails lets go of
// exactly what it added, and nothing a film or a replica of the same data directory holds.
import { CID } from 'multiformats/cid'
import { isPinned, pinWithProgress } from '../storage/content.ts'
import type { StorageNode } from '../storage/helia-node.ts'
import { unpinLocal } from '../replication/local-unpin.ts'

export interface PinLedger {
  /** Pins `cid` and notes it, unless it was pinned already. */
  pin(cid: CID): Promise<CID>
  /** What was noted, as strings. */
  roots(): string[]
}

export function pinLedger(helia: StorageNode): PinLedger {
  const roots: CID[] = []
  return {
    async pin(cid) {
      const before = await isPinned(helia, cid)
      await pinWithProgress(helia, cid)
      if (!before) roots.push(cid)
      return cid
    },
    roots: () => roots.map(cid => cid.toString())
  }
}

/**
 * Unpins `roots` without fetching anything, then collects the garbage, so their blocks leave the disk
 * (the storage role's hourly collection would, later; a custodian without it, never).
 */
export async function releasePins(helia: StorageNode, roots: string[]): Promise<void> {
  for (const root of roots) await unpinLocal(helia, CID.parse(root))
  await helia.gc()
}
