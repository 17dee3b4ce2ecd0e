import type { CID } from 'multiformats/cid'
import { BLOCK_PATH } from '../wire/monitor-protocol.ts'
import { blockMatches } from '../wire/block-hash.ts'
import { BodyTooLargeError, readCappedBody } from '../lib/capped-body.ts'
import { DagBoundsError, MAX_DEPTH, decodeUnixfsNode } from '../wire/dag-bounds.ts'

export class BlockUnavailableError extends Error {
  override name = 'BlockUnavailableError'
}

const FETCH_TIMEOUT_MS = 30_000

/** What one box answered for a block: its bytes (checked), or why not. */
export type BlockAnswer =
  { kind: 'bytes'; bytes: Uint8Array } | { kind: 'missing' } | { kind: 'wrong'; reason: string } | { kind: 'unavailable'; reason: string }

/** One block from one box's HTTP API, checked against its CID; an answer of more than `maxBytes` is cut off there and refused. */
export async function fetchBlockFrom(apiUrl: string, cid: CID, opts: { maxBytes: number; signal: AbortSignal }): Promise<BlockAnswer> {
  let response: Response
  try {
    response = await fetch(`${apiUrl}${BLOCK_PATH.replace(':cid', cid.toString())}`, {
      redirect: 'manual', // a box answers for itself: a 3xx is no answer
      signal: AbortSignal.any([opts.signal, AbortSignal.timeout(FETCH_TIMEOUT_MS)])
    })
  } catch (err) {
    return { kind: 'unavailable', reason: (err as Error).message }
  }
  if (response.status === 404) return { kind: 'missing' }
  if (!response.ok) return { kind: 'unavailable', reason: `answered ${response.status}` }
  let bytes: Uint8Array
  try {
    bytes = await readCappedBody(response.body, opts.maxBytes)
  } catch (err) {
    if (err instanceof BodyTooLargeError) return { kind: 'wrong', reason: `block ${cid} is over ${opts.maxBytes} bytes` }
    return { kind: 'unavailable', reason: (err as Error).message }
  }
  if (!(await blockMatches(cid, bytes))) return { kind: 'wrong', reason: `block ${cid} does not match its CID` }
  return { kind: 'bytes', bytes }
}

/** One block from the first of `apiUrls` that serves bytes matching its CID. */
export async function fetchVerifiedBlock(
  cid: CID,
  apiUrls: string[],
  opts: { maxBytes: number; signal: AbortSignal }
): Promise<Uint8Array> {
  for (const apiUrl of apiUrls) {
    if (opts.signal.aborted) break
    const answer = await fetchBlockFrom(apiUrl, cid, opts)
    if (answer.kind === 'bytes') return answer.bytes
  }
  throw new BlockUnavailableError(`no box served block ${cid}`)
}

/**
 * The bytes of a small UnixFS file (or a raw block), of at most `maxBytes`, read block by block in link
 * order. Each block is read once, no deeper than MAX_DEPTH, and only while the bytes its parents list
 * stay within `maxBytes`: a DAG that says more is refused (DagBoundsError) before its blocks are asked for.
 */
export async function readUnixfsFile(cid: CID, fetchBlock: (cid: CID) => Promise<Uint8Array>, maxBytes: number): Promise<Uint8Array> {
  const parts: Uint8Array[] = []
  const visited = new Set<string>()
  const read = async (block: CID, depth: number, listed: number | undefined): Promise<void> => {
    if (visited.has(block.toString())) throw new DagBoundsError(`${cid} links block ${block} more than once`)
    visited.add(block.toString())
    const node = decodeUnixfsNode(block, await fetchBlock(block), `${cid}`)
    if (node.fileBytes > maxBytes) throw new DagBoundsError(`${cid} is larger than ${maxBytes} bytes`)
    if (listed !== undefined && node.fileBytes !== listed)
      throw new DagBoundsError(`${cid}: block ${block} holds ${node.fileBytes} bytes where its parent lists ${listed}`)
    if (node.children.length > 0 && depth >= MAX_DEPTH) throw new DagBoundsError(`${cid} is more than ${MAX_DEPTH} links deep`)
    parts.push(node.inlineBytes)
    for (const child of node.children) await read(child.cid, depth + 1, child.fileBytes)
  }
  await read(cid, 0, undefined)
  return Buffer.concat(parts)
}
