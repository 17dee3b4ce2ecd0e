import { unixfs, type AddEvents } from '@helia/unixfs'
import { fixedSize } from 'ipfs-unixfs-importer/chunker'
import { createUnsafe } from 'multiformats/block'
import * as raw from 'multiformats/codecs/raw'
import type { CID } from 'multiformats/cid'
import type { Blocks, GraphNode, GraphWalkerComponents, GraphWalkerFactory, Helia } from 'helia'
import type { BlockFetcher, FetchOptions } from './block-fetcher.ts'
import { DagBoundsError, MAX_BLOCK_BYTES, MAX_DEPTH, dagWalkBounds, decodeUnixfsNode, type FileBound } from '../wire/dag-bounds.ts'

/**
 * Leaf block size for films. 1 MiB fixed-size leaves (the unixfs-v1-2025 profile) keep a 50 GB
 * film at ~48 k blocks, so pin records, bitswap round trips and per-block file opens stay few,
 * while a seek still reads at most one extra MiB. Fixed sizes make the leaf holding any byte
 * computable. With the older 256 KiB default the decrypted stream was ~15 % slower (221 against
 * 258 MiB/s, 256 MiB film, 2-core x86, an earlier bench/stream.ts on the earlier read path).
 */
export const DEFAULT_LEAF_SIZE = 1_048_576
/** Blocks fetched at once while pinning: bitswap is latency-bound, so keep several wants in flight. */
export const PIN_FETCH_CONCURRENCY = 16
/**
 * Leaf blocks readRange reads ahead of its consumer: enough to overlap disk reads with the consumer's
 * work. Each is a 1 MiB buffer per stream: 4 held 16 streams ~30 MB higher (docs/benchmarks.md, memory).
 */
const READ_AHEAD_BLOCKS = 2
/** The dag-pb codec (multicodec table), which UnixFS files' inner nodes use. */
const DAG_PB_CODE = 0x70

export class ContentError extends Error {
  override name = 'ContentError'
}

export interface PinProgress {
  /** Blocks of the DAG held locally so far (already held ones count too). */
  blocks: number
  /** File bytes held so far: the raw leaves' bytes; ends at fileSize(cid) for files made by addFile. */
  bytes: number
  /** Block bytes this run fetched from peers (the rest were on disk already): for bandwidth accounting. */
  fetchedBytes: number
}

/** Adds a byte stream as a UnixFS file: CIDv1, raw leaves, fixed-size leaves, balanced layout. */
export async function addFile(
  helia: Helia,
  source: AsyncIterable<Uint8Array>,
  onProgress?: (bytes: number) => void,
  leafSize: number = DEFAULT_LEAF_SIZE
): Promise<CID> {
  if (!Number.isSafeInteger(leafSize) || leafSize <= 0) throw new ContentError(`leaf size must be a positive integer, got ${leafSize}`)
  return await unixfs(helia).addByteStream(source, {
    // stated although they are today's defaults: a film's CID must not change with a future default
    cidVersion: 1,
    rawLeaves: true,
    chunker: fixedSize({ chunkSize: leafSize }),
    onProgress:
      onProgress == null
        ? undefined
        : (event: AddEvents) => {
            if (event.type === 'unixfs:importer:progress:file:write') onProgress(Number(event.detail.bytesWritten))
          }
  })
}

export async function addBytes(helia: Helia, bytes: Uint8Array): Promise<CID> {
  return await addFile(
    helia,
    (async function* () {
      yield bytes
    })()
  )
}

export interface ReadOptions {
  offset?: number
  length?: number
  signal?: AbortSignal
}

/** Direct reads of blocks held on this node's disk (helia-node.ts's blockstore). */
export interface LocalBlocks {
  /** Reads up to buffer.length bytes of a block from `position`: the bytes read, or undefined when the block is not on disk. */
  readInto(cid: CID, buffer: Uint8Array, position: number): Promise<number | undefined>
}

/** How one node reads files: made once per node (createStorageNode), it keeps the inner nodes it decoded lately. */
export interface ContentReader {
  /**
   * Reads a file, or `length` bytes of it from `offset`, into memory: for small files and tests. A file
   * read whole that others made (metadata, a poster) names its bound: one whose root declares more is
   * refused before any leaf is read.
   */
  readBytes(cid: CID, opts?: ReadOptions & { bound?: FileBound }): Promise<Uint8Array>
  /**
   * The bytes offset..offset+length-1 of a UnixFS file, in order, reading at most a few leaf blocks
   * ahead of what the consumer has taken; missing blocks are fetched from peers.
   *
   * Why not unixfs cat() (ipfs-unixfs-exporter 16): it reads a range's blocks as fast as it can
   * whatever the consumer does, and in a file of more than one DAG level (over 1 GiB with 1 MiB
   * leaves) a block that fails to load leaves it hanging for ever, while aborting its reads surfaced
   * as an unhandled rejection. Here a failed read ends the iteration with its error, and returning
   * early stops the reads in flight.
   */
  readRange(cid: CID, opts?: ReadOptions): AsyncGenerator<Uint8Array>
  /**
   * readRange for hot paths: the pieces are views into a few buffers that are read into again, so a
   * piece is valid only until the consumer asks for the next one. It saves allocating (and then
   * collecting) a buffer per leaf block: at film-streaming rates, garbage collection was a fifth of
   * the server's time.
   */
  readRangeLent(cid: CID, opts?: ReadOptions): AsyncGenerator<Uint8Array>
  fileSize(cid: CID, signal?: AbortSignal): Promise<number>
}

/** What a reader reads through: the node's blockstore, its fetcher for missing blocks, its disk for direct reads. */
interface Reader {
  node: { blockstore: Pick<Blocks, 'get'> }
  fetcher: BlockFetcher
  local?: LocalBlocks
  /**
   * Inner nodes decoded lately, by CID (a block never changes). A film is read in many ranges (every
   * seek, every range a player asks for is a request of its own), and each would otherwise read and
   * decode its root and a 1024-link node again, a few ms before its first byte.
   */
  decoded: Map<string, FileNode>
}

/** The reader of the node whose blockstore is `node.blockstore`; `local`: its disk store, read directly when given. */
export function createContentReader(node: { blockstore: Pick<Blocks, 'get'> }, fetcher: BlockFetcher, local?: LocalBlocks): ContentReader {
  const reader: Reader = { node, fetcher, local, decoded: new Map() }
  return {
    async readBytes(cid, opts = {}) {
      if (opts.bound !== undefined) {
        const size = await fileSize(reader, cid, opts.signal)
        if (size > opts.bound.bytes)
          throw new DagBoundsError(
            `${opts.bound.what} (${cid}) is refused: it holds ${size} bytes, more than the ${opts.bound.bytes} allowed`
          )
      }
      return await collect(readPieces(reader, cid, opts, freshBuffers))
    },
    readRange: (cid, opts = {}) => readPieces(reader, cid, opts, freshBuffers),
    readRangeLent: (cid, opts = {}) => readPieces(reader, cid, opts, recycledBuffers()),
    fileSize: async (cid, signal) => await fileSize(reader, cid, signal)
  }
}

interface Buffers {
  /** A buffer of at least `length` bytes. */
  take(length: number): Buffer
  /** The consumer is done with it. */
  give(buffer: Buffer): void
  /** The read is over and no read is writing into a buffer given back: their memory may go. */
  close(): void
}

const freshBuffers: Buffers = { take: length => Buffer.allocUnsafeSlow(length), give: () => {}, close: () => {} }

function recycledBuffers(): Buffers {
  const free: Buffer[] = []
  return {
    take: length => {
      const fits = free.findIndex(buffer => buffer.length >= length)
      return fits === -1 ? Buffer.allocUnsafeSlow(length) : free.splice(fits, 1)[0]
    },
    give: buffer => {
      free.push(buffer)
    },
    // Each is a Buffer of its own (allocUnsafeSlow): detached, its memory is freed now. Left to the
    // collector, 16 streams' dead 1 MiB buffers counted toward V8's heap limit and started full
    // collections (gc-tuning.ts; docs/benchmarks.md).
    close: () => {
      for (const buffer of free.splice(0)) (buffer.buffer as ArrayBuffer).transfer(0)
    }
  }
}

type PieceRead = { bytes: Uint8Array; buffer?: Buffer }

async function* readPieces(reader: Reader, cid: CID, opts: ReadOptions, buffers: Buffers): AsyncGenerator<Uint8Array> {
  // a read is someone waiting (a screen, the catalogue): its missing blocks go ahead of pins'
  const root = await readFileNode(reader, cid, { root: cid, priority: 'playback', signal: opts.signal })
  const size = root.size
  const start = opts.offset ?? 0
  const end = start + (opts.length ?? size - start)
  if (!Number.isSafeInteger(start) || !Number.isSafeInteger(end) || start < 0 || end < start || end > size) {
    throw new ContentError(`cannot read ${opts.length ?? 'to the end'} bytes at offset ${start} of ${cid}, a file of ${size} bytes`)
  }
  if (start === end) return
  const reads = new AbortController()
  const signal = opts.signal == null ? reads.signal : AbortSignal.any([reads.signal, opts.signal])
  const fetchOpts: FetchOptions = { root: cid, priority: 'playback', signal }
  const pieces = piecesOf(reader, root, 0, 0, start, end, fetchOpts)
  const inFlight: Array<Promise<PieceRead>> = []
  let morePieces = true
  let lent: Buffer | undefined
  try {
    for (;;) {
      // the consumer asked for the next piece, so it is done with the one it was lent
      if (lent != null) buffers.give(lent)
      lent = undefined
      while (morePieces && inFlight.length < READ_AHEAD_BLOCKS) {
        const next = await pieces.next()
        if (next.done === true) {
          morePieces = false
        } else {
          const read = readPiece(reader, next.value, buffers, fetchOpts)
          read.catch(() => {}) // rethrown below when its turn comes; until then it must not count as unhandled
          inFlight.push(read)
        }
      }
      const read = inFlight.shift()
      if (read == null) return
      const piece = await read
      lent = piece.buffer
      yield piece.bytes
    }
  } finally {
    reads.abort()
    await pieces.return(undefined)
    if (lent != null) buffers.give(lent)
    // a read still in flight writes into its buffer: only buffers no read holds are handed back
    for (const read of await Promise.allSettled(inFlight)) {
      if (read.status === 'fulfilled' && read.value.buffer != null) buffers.give(read.value.buffer)
    }
    buffers.close()
  }
}

/** Part of a file: bytes from..to-1 of a raw leaf block, or bytes held inline in a node. */
type Piece = { cid: CID; blockLength: number; from: number; to: number } | { bytes: Uint8Array }

/** A UnixFS file node, read and decoded once: the file bytes it holds inline, then its children in order. */
interface FileNode {
  /** File bytes under this node: its inline bytes and its children's. */
  size: number
  data: Uint8Array
  children: Array<{ cid: CID; size: number }>
}

/** Inner nodes a reader keeps decoded. A few suffice: a read needs the root and the node over its leaves, one per GiB of film. */
const DECODED_NODES = 8

async function readFileNode(reader: Reader, cid: CID, fetchOpts: FetchOptions): Promise<FileNode> {
  if (cid.code !== DAG_PB_CODE) return await decodeFileNode(reader, cid, fetchOpts)
  const nodes = reader.decoded
  const key = cid.toString()
  let node = nodes.get(key)
  if (node === undefined) {
    node = await decodeFileNode(reader, cid, fetchOpts)
    if (nodes.size >= DECODED_NODES) nodes.delete(nodes.keys().next().value as string)
  } else {
    nodes.delete(key) // to the back: the least recently read goes first
  }
  nodes.set(key, node)
  return node
}

/** A raw block is a file of one leaf: all inline bytes. A dag-pb node is decoded for its UnixFS data and links (at most MAX_LINKS). */
async function decodeFileNode(reader: Reader, cid: CID, fetchOpts: FetchOptions): Promise<FileNode> {
  const node = decodeUnixfsNode(cid, await blockBytes(reader, cid, fetchOpts), `${fetchOpts.root}`)
  return { size: node.fileBytes, data: node.inlineBytes, children: node.children.map(child => ({ cid: child.cid, size: child.fileBytes })) }
}

/**
 * The pieces of file bytes start..end-1 under `node`, which holds bytes nodeOffset..+node.size-1 and
 * is `depth` links below the root. An inner child must hold the bytes its parent lists, and none may
 * be deeper than MAX_DEPTH: a read goes only where the root's size says the file is.
 */
async function* piecesOf(
  reader: Reader,
  node: FileNode,
  depth: number,
  nodeOffset: number,
  start: number,
  end: number,
  fetchOpts: FetchOptions
): AsyncGenerator<Piece> {
  let at = nodeOffset
  const data = node.data
  if (data.byteLength > 0 && at + data.byteLength > start && at < end) {
    yield { bytes: data.subarray(Math.max(start - at, 0), Math.min(end - at, data.byteLength)) }
  }
  at += data.byteLength
  if (node.children.length > 0 && depth >= MAX_DEPTH) throw new DagBoundsError(`${fetchOpts.root} is more than ${MAX_DEPTH} links deep`)
  for (const child of node.children) {
    if (at >= end) return
    if (at + child.size > start) {
      if (child.cid.code === raw.code) {
        yield { cid: child.cid, blockLength: child.size, from: Math.max(start - at, 0), to: Math.min(end - at, child.size) }
      } else {
        const inner = await readFileNode(reader, child.cid, fetchOpts)
        if (inner.size !== child.size) {
          throw new DagBoundsError(`${fetchOpts.root}: block ${child.cid} holds ${inner.size} bytes where its parent lists ${child.size}`)
        }
        yield* piecesOf(reader, inner, depth + 1, at, start, end, fetchOpts)
      }
    }
    at += child.size
  }
}

/**
 * A block on this node's disk is read straight from the file, only the bytes the piece needs;
 * others are fetched (block-fetcher.ts). The direct read skips Helia's blockstore
 * layers (an existence check, a lock and three generators per block) and, like Helia's own reads of
 * local blocks, does not hash the block again: blocks were verified when they were written (added
 * here, or fetched and checked against their CID), and a film's bytes are sealed, so the AEAD tag of each
 * chunk catches any later corruption before a byte of it is sent.
 */
async function readPiece(reader: Reader, piece: Piece, buffers: Buffers, fetchOpts: FetchOptions): Promise<PieceRead> {
  if ('bytes' in piece) return { bytes: piece.bytes }
  const wanted = piece.to - piece.from
  // a piece that runs to the end of its block asks for one byte more, to notice a block longer than listed
  const asked = piece.to === piece.blockLength ? wanted + 1 : wanted
  const buffer = buffers.take(asked)
  let got = await reader.local?.readInto(piece.cid, buffer.subarray(0, asked), piece.from)
  if (got == null) {
    // the leaf is fetched only if it is the size its parent lists: a longer answer is refused unread
    const bytes = await blockBytes(reader, piece.cid, { ...fetchOpts, maxBytes: piece.blockLength })
    got = Math.min(bytes.byteLength - piece.from, asked)
    buffer.set(bytes.subarray(piece.from, piece.from + got))
  }
  fetchOpts.signal?.throwIfAborted()
  if (got !== wanted) {
    throw new ContentError(`block ${piece.cid} does not hold the ${piece.blockLength} bytes its parent lists`)
  }
  return { bytes: buffer.subarray(0, wanted), buffer }
}

/**
 * A block from this node's disk, or fetched (block-fetcher.ts) when it is not there. One offline
 * get, not a `has` first: Helia's get makes that existence check itself.
 */
async function blockBytes(reader: Reader, cid: CID, fetchOpts: FetchOptions): Promise<Uint8Array> {
  return (await heldBlock(reader.node.blockstore, cid, fetchOpts.signal)) ?? (await reader.fetcher.fetch(cid, fetchOpts))
}

async function fileSize(reader: Reader, cid: CID, signal?: AbortSignal): Promise<number> {
  return (await readFileNode(reader, cid, { root: cid, priority: 'playback', signal })).size
}

/** Helia's offline read of a missing block fails with BlockNotFoundWhileOfflineError, the store's own with NotFoundError. */
export const isNotHeld = (err: unknown): boolean =>
  (err as Error).name === 'NotFoundError' || (err as Error).name === 'BlockNotFoundWhileOfflineError'

/** A block from this node's own disk, or undefined when it is not there: never fetched from others. */
export async function heldBlock(blockstore: Pick<Blocks, 'get'>, cid: CID, signal?: AbortSignal): Promise<Uint8Array | undefined> {
  try {
    return await collect(blockstore.get(cid, { offline: true, signal }))
  } catch (err) {
    if (isNotHeld(err)) return undefined
    throw err
  }
}

/**
 * Pins `cid` recursively, fetching missing blocks several at a time (block-fetcher.ts: over HTTP from
 * boxes that hold it, else bitswap). Idempotent: an
 * existing pin returns at once. Resumable: blocks already on disk (from an interrupted run, even
 * before a restart) are read locally, not refetched; Helia records each block's pin as it goes and
 * writes the pin itself only once the whole DAG is held. The DAG is walked within its bounds
 * (dag-bounds.ts): `bound`, when given, is what the caller knows of the file (a film's sealedBytes),
 * checked at the root before any other block is asked for.
 */
export async function pinWithProgress(
  helia: Pick<Helia, 'pins'> & { fetcher: BlockFetcher },
  cid: CID,
  opts: { bound?: FileBound; onProgress?(p: PinProgress): void; signal?: AbortSignal } = {}
): Promise<void> {
  if (await isPinned(helia, cid)) return
  const progress: PinProgress = { blocks: 0, bytes: 0, fetchedBytes: 0 }
  const walker = concurrentWalker(helia.fetcher, PIN_FETCH_CONCURRENCY, opts.bound, (node, fetched) => {
    const size = node.block.bytes.byteLength
    progress.blocks++
    if (node.block.cid.code === raw.code) progress.bytes += size
    if (fetched) progress.fetchedBytes += size
    opts.onProgress?.({ ...progress })
  })
  for await (const _ of helia.pins.add(cid, { walker, signal: opts.signal })) {
    /* drain */
  }
}

/** Removes the pin; its blocks stay until a garbage collection (helia.gc()). No pin is not an error. */
export async function unpin(helia: Helia, cid: CID): Promise<void> {
  if (!(await isPinned(helia, cid))) return
  for await (const _ of helia.pins.rm(cid)) {
    /* drain */
  }
}

/** True once a pin of `cid` itself is complete (not merely some of its blocks pinned by others). */
export async function isPinned(helia: Pick<Helia, 'pins'>, cid: CID): Promise<boolean> {
  try {
    await helia.pins.get(cid)
    return true
  } catch (err) {
    if ((err as Error).name === 'NotFoundError') return false
    throw err
  }
}

/** The parts of a block or a file, joined (without a copy when there is only one). */
async function collect(source: AsyncIterable<Uint8Array> | Iterable<Uint8Array>): Promise<Uint8Array> {
  const parts: Uint8Array[] = []
  let length = 0
  for await (const part of source) {
    parts.push(part)
    length += part.byteLength
  }
  if (parts.length === 1) return parts[0]
  const out = new Uint8Array(length)
  let at = 0
  for (const part of parts) {
    out.set(part, at)
    at += part.byteLength
  }
  return out
}

/**
 * A graph walker for helia.pins.add that keeps `concurrency` block fetches in flight (Helia's own
 * walkers fetch one block at a time, so each bitswap round trip would stall the pin). Order does
 * not matter to a pin; every node is reported to `onNode` as it arrives. Each node is checked
 * (dagWalkBounds) before its children are asked for, and a leaf is fetched only at the size its
 * parent lists.
 */
function concurrentWalker(
  fetcher: BlockFetcher,
  concurrency: number,
  bound: FileBound | undefined,
  onNode: (node: GraphNode, fetched: boolean) => void
): GraphWalkerFactory {
  return ({ blockstore, getCodec }: GraphWalkerComponents) => ({
    async *walk(root, options = {}) {
      const maxDepth = options.depth ?? Infinity
      const bounds = dagWalkBounds(root, bound)
      const abort = new AbortController()
      const signal = options.signal == null ? abort.signal : AbortSignal.any([abort.signal, options.signal])
      /** `listed`: the file bytes the parent lists for the block (undefined for the root). */
      type Job = { cid: CID; depth: number; path: CID[]; listed?: number }
      // GraphNode<any>: a pin walks blocks of every codec, so the decoded value's type is unknown here
      type Done = { id: number; node?: GraphNode<any>; fetched?: boolean; error?: unknown }
      const jobs: Job[] = [{ cid: root, depth: 0, path: [root] }]
      const inFlight = new Map<number, Promise<Done>>()
      let nextJob = 0

      const fetchNode = async (id: number, job: Job): Promise<Done> => {
        const held = await heldBlock(blockstore as Pick<Blocks, 'get'>, job.cid, signal)
        const fetched = held === undefined
        const maxBytes = job.cid.code === raw.code && job.listed !== undefined ? job.listed : MAX_BLOCK_BYTES
        const bytes = held ?? (await fetcher.fetch(job.cid, { root, priority: 'pin', signal, maxBytes }))
        const block = createUnsafe({ cid: job.cid, bytes, codec: await getCodec(job.cid.code) })
        return { id, node: { block, depth: job.depth, path: job.path }, fetched }
      }

      try {
        while (nextJob < jobs.length || inFlight.size > 0) {
          while (nextJob < jobs.length && inFlight.size < concurrency) {
            const id = nextJob++
            inFlight.set(
              id,
              fetchNode(id, jobs[id]).catch(error => ({ id, error }))
            )
          }
          const done = await Promise.race(inFlight.values())
          inFlight.delete(done.id)
          if (done.node == null) throw done.error
          const node = done.node
          const children = bounds.take(node.block.cid, node.block.bytes, node.depth, jobs[done.id].listed)
          if (node.depth < maxDepth) {
            for (const child of children) {
              jobs.push({ cid: child.cid, depth: node.depth + 1, path: [...node.path, child.cid], listed: child.fileBytes })
            }
          }
          onNode(node, done.fetched === true)
          yield node
        }
      } finally {
        abort.abort()
      }
    }
  })
}
