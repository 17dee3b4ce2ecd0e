// A look inside a DAG held by a Helia node: one block's bytes and the blocks it links to; and DAG
// blocks made by hand, as a hostile creator would.
import * as dagPb from '@ipld/dag-pb'
import type { Helia } from 'helia'
import { UnixFS } from 'ipfs-unixfs'
import { createUnsafe } from 'multiformats/block'
import { CID } from 'multiformats/cid'
import { sha256 } from 'multiformats/hashes/sha2'

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

/** Stores `bytes` as a block of `codec` (raw or dag-pb) on the node, as a creator's own node would: its CID. */
export async function putBlock(helia: Helia, codec: number, bytes: Uint8Array): Promise<CID> {
  const cid = CID.createV1(codec, await sha256.digest(bytes))
  await helia.blockstore.put(cid, bytes)
  return cid
}

/** A UnixFS file node made by hand: it links `children`, listing for each the file bytes given, whatever they hold. */
export async function putFileNode(helia: Helia, children: Array<{ cid: CID; bytes: number }>): Promise<CID> {
  const data = new UnixFS({ type: 'file', blockSizes: children.map(child => BigInt(child.bytes)) })
  const links = children.map(child => ({ Hash: child.cid, Tsize: child.bytes }))
  return await putBlock(helia, dagPb.code, dagPb.encode(dagPb.prepare({ Data: data.marshal(), Links: links })))
}

/** The blocks on a data directory's disk (Helia's FsBlockstore keeps one file per block). */
export async function blockFiles(dataDir: string): Promise<number> {
  const { readdir } = await import('node:fs/promises')
  const { join } = await import('node:path')
  const entries = await readdir(join(dataDir, 'helia', 'blocks'), { recursive: true, withFileTypes: true }).catch(() => [])
  return entries.filter(entry => entry.isFile()).length
}

/** The roots a node holds pins of, sorted. */
export async function pinnedRoots(helia: Pick<Helia, 'pins'>): Promise<string[]> {
  const roots: string[] = []
  for await (const pin of helia.pins.ls()) roots.push(pin.cid.toString())
  return roots.sort()
}
