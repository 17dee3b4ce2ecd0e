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

/** `noted` keeps the list before each new pin is made, so a kill after it leaves the root on record. */
export function pinLedger(helia: StorageNode, noted: (roots: string[]) => Promise<void> = async () => {}): PinLedger {
  const roots: CID[] = []
  return {
    async pin(cid) {
      if (!(await isPinned(helia, cid))) {
        roots.push(cid)
        await noted(roots.map(root => root.toString()))
      }
      await pinWithProgress(helia, cid)
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
