// A look inside a DAG held by a Helia node: one block's bytes and the blocks it links to.
import type { Helia } from 'helia'
import { createUnsafe } from 'multiformats/block'
import type { CID } from 'multiformats/cid'

/** The bytes of a block the node holds itself (offline: a missing block fails rather than asking peers). */
export async function blockBytes(helia: Helia, cid: CID): Promise<Uint8Array> {
  const parts: Uint8Array[] = []
  for await (const part of helia.blockstore.get(cid, { offline: true })) parts.push(part)
  return Buffer.concat(parts)
}

/** The CIDs a block links to, in order (for a unixfs file: its leaves or subtrees). */
export async function childCids(helia: Helia, cid: CID): Promise<CID[]> {
  const block = createUnsafe({ cid, bytes: await blockBytes(helia, cid), codec: await helia.getCodec(cid.code) })
  return [...block.links()].map(([, child]) => child)
}

/** Bytes of a block and the blocks it links to (for a small unixfs file: its root and leaves), as the node holds them. */
export async function dagBytes(helia: Helia, cid: CID): Promise<number> {
  let total = 0
  for (const block of [cid, ...(await childCids(helia, cid))]) total += (await blockBytes(helia, block)).byteLength
  return total
}
