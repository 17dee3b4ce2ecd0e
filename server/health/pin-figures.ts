import * as dagPb from '@ipld/dag-pb'
import type { Helia } from 'helia'
import type { CID } from 'multiformats/cid'

export interface PinFigures {
  /** Root CIDs pinned on this box. */
  roots: string[]
  /** Bytes of every pinned DAG (each DAG counted whole, blocks shared between DAGs counted in each). */
  bytes: number
}

/**
 * Pins held and their size. A DAG's size is its root block plus the cumulative sizes (Tsize) its
 * dag-pb links record, so one block read per pin, and that only once: a CID's DAG never changes.
 */
export function createPinFigures(helia: Helia): () => Promise<PinFigures> {
  const sizes = new Map<string, number>()
  return async () => {
    const roots: string[] = []
    let bytes = 0
    for await (const pin of helia.pins.ls()) {
      const key = pin.cid.toString()
      roots.push(key)
      let size = sizes.get(key)
      if (size === undefined) {
        size = await dagSize(helia, pin.cid)
        sizes.set(key, size)
      }
      bytes += size
    }
    const held = new Set(roots)
    for (const key of sizes.keys()) if (!held.has(key)) sizes.delete(key)
    return { roots, bytes }
  }
}

async function dagSize(helia: Helia, cid: CID): Promise<number> {
  const parts: Uint8Array[] = []
  for await (const part of helia.blockstore.get(cid, { offline: true })) parts.push(part)
  const block = Buffer.concat(parts)
  if (cid.code !== dagPb.code) return block.byteLength
  return dagPb.decode(block).Links.reduce((sum, link) => sum + (link.Tsize ?? 0), block.byteLength)
}
