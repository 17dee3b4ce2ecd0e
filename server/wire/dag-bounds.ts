// The limits every walk of a UnixFS DAG keeps, whoever made the DAG: a DAG arrives from a creator or a
// peer, and its links and sizes are claims until each block has been checked against them. A walk
// that trusted them could be sent round one block thousands of times (memory), down a chain of
// millions of nodes, or through far more bytes than the film declares (the disk, past the quota).
import { UnixFS } from 'ipfs-unixfs'
import * as dagPb from '@ipld/dag-pb'
import * as raw from 'multiformats/codecs/raw'
import type { CID } from 'multiformats/cid'

/**
 * Most links one node may have. The importer makes at most 174 (its balanced layout's default, which
 * addFile uses) and 1024 under the unixfs-v1-2025 profile: 1024 admits both, and keeps a node's links
 * (about 60 bytes each) within 64 KiB.
 */
export const MAX_LINKS = 1024
/**
 * Most links from a root down to a leaf. With 1 MiB leaves and 174 links a node, depth 3 already
 * holds 5 TiB and depth 4 870 TiB; a film uses 1 (up to 174 MiB) or 2 (up to 29 GiB).
 */
export const MAX_DEPTH = 4
/** Largest block asked for: a 1 MiB leaf (content.ts), with room for a dag-pb node's framing; an inner node of MAX_LINKS links is about 64 KiB. */
export const MAX_BLOCK_BYTES = 1024 * 1024 + 64 * 1024
/**
 * Inner-node bytes a pin accepts for a file of `fileBytes`: a 1 MiB-leaf film spends about 60 bytes
 * of links per MiB, and even 2 KiB leaves (the tests' smallest) about 1/32 of the file. Beyond a
 * sixteenth, the DAG is spending the disk on structure rather than on the film.
 */
export const innerBytesAllowed = (fileBytes: number): number => 64 * 1024 + Math.ceil(fileBytes / 16)

/** A DAG that does not keep to the bounds, or disagrees with what its parents or its film declare. */
export class DagBoundsError extends Error {
  override name = 'DagBoundsError'
}

/** The file a walk expects: bytes under the root, exactly (a film's sealedBytes) or at most (a poster), and what it is, for errors. */
export interface FileBound {
  what: string
  bytes: number
  exact?: boolean
}

/** A UnixFS file node: the bytes under it and its children, with the file bytes each one is listed as holding. */
export interface UnixfsNode {
  fileBytes: number
  inlineBytes: Uint8Array
  children: Array<{ cid: CID; fileBytes: number }>
}

/** Decodes a raw leaf or a dag-pb UnixFS file node and checks its fan-out; `name` says whose DAG it is, for errors. */
export function decodeUnixfsNode(cid: CID, bytes: Uint8Array, name: string): UnixfsNode {
  if (cid.code === raw.code) return { fileBytes: bytes.byteLength, inlineBytes: bytes, children: [] }
  if (cid.code !== dagPb.code)
    throw new DagBoundsError(`${name}: block ${cid} is not part of a UnixFS file (codec 0x${cid.code.toString(16)})`)
  const node = dagPb.decode(bytes)
  if (node.Data == null) throw new DagBoundsError(`${name}: block ${cid} is a dag-pb node without UnixFS data`)
  const file = UnixFS.unmarshal(node.Data)
  if (file.isDirectory()) throw new DagBoundsError(`${name}: block ${cid} is a directory, not a file`)
  if (node.Links.length > MAX_LINKS)
    throw new DagBoundsError(`${name}: block ${cid} has ${node.Links.length} links, more than ${MAX_LINKS}`)
  if (node.Links.length !== file.blockSizes.length) {
    throw new DagBoundsError(`${name}: block ${cid} has ${node.Links.length} links but ${file.blockSizes.length} block sizes`)
  }
  return {
    fileBytes: Number(file.fileSize()),
    inlineBytes: file.data ?? new Uint8Array(0),
    children: node.Links.map((link, i) => ({ cid: link.Hash, fileBytes: Number(file.blockSizes[i]) }))
  }
}

/**
 * The checks of one whole-DAG walk (a pin): every block visited once, each node holding the bytes its
 * parent lists, no deeper than MAX_DEPTH, the root within its bound, and inner nodes within their
 * share. With these, the leaves a walk stores add up to the root's size, which the bound caps.
 */
export function dagWalkBounds(
  root: CID,
  bound?: FileBound
): {
  /** The node `cid` found at `depth` and listed by its parent as `listed` bytes (undefined for the root): its children to walk. */
  take(cid: CID, bytes: Uint8Array, depth: number, listed: number | undefined): UnixfsNode['children']
} {
  const name = bound === undefined ? `${root}` : `${bound.what} (${root})`
  const visited = new Set<string>([root.toString()])
  let innerAllowed = 0 // set by the root, which is taken first
  let innerBytes = 0
  return {
    take(cid, bytes, depth, listed) {
      const node = decodeUnixfsNode(cid, bytes, name)
      if (listed === undefined) {
        if (bound !== undefined && (bound.exact === true ? node.fileBytes !== bound.bytes : node.fileBytes > bound.bytes)) {
          throw new DagBoundsError(
            `${name} is refused: its DAG holds ${node.fileBytes} bytes where ${bound.exact === true ? 'exactly' : 'at most'} ${bound.bytes} are declared`
          )
        }
        innerAllowed = innerBytesAllowed(node.fileBytes)
      } else if (node.fileBytes !== listed) {
        throw new DagBoundsError(`${name} is refused: block ${cid} holds ${node.fileBytes} bytes where its parent lists ${listed}`)
      }
      if (cid.code !== raw.code) {
        innerBytes += bytes.byteLength
        if (innerBytes > innerAllowed) throw new DagBoundsError(`${name} is refused: its inner nodes take more than ${innerAllowed} bytes`)
      }
      if (node.children.length > 0 && depth >= MAX_DEPTH)
        throw new DagBoundsError(`${name} is refused: it is more than ${MAX_DEPTH} links deep`)
      for (const child of node.children) {
        const key = child.cid.toString()
        if (visited.has(key)) throw new DagBoundsError(`${name} is refused: it links block ${key} more than once`)
        if (child.fileBytes === 0) throw new DagBoundsError(`${name} is refused: block ${cid} links an empty block`)
        visited.add(key)
      }
      return node.children
    }
  }
}
