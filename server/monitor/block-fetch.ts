import * as dagPb from '@ipld/dag-pb'
import { UnixFS } from 'ipfs-unixfs'
import type { CID } from 'multiformats/cid'
import { BLOCK_PATH } from './protocol.ts'
import { blockMatches } from './block-hash.ts'

export class BlockUnavailableError extends Error {
  override name = 'BlockUnavailableError'
}

const FETCH_TIMEOUT_MS = 30_000

/** What one box answered for a block: its bytes (checked), or why not. */
export type BlockAnswer =
  { kind: 'bytes'; bytes: Uint8Array } | { kind: 'missing' } | { kind: 'wrong'; reason: string } | { kind: 'unavailable'; reason: string }

/** One block from one box's HTTP API, checked against its CID. */
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
    bytes = new Uint8Array(await response.arrayBuffer())
  } catch (err) {
    return { kind: 'unavailable', reason: (err as Error).message }
  }
  if (bytes.byteLength > opts.maxBytes) return { kind: 'wrong', reason: `block ${cid} is over ${opts.maxBytes} bytes` }
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

/** The bytes of a small UnixFS file (or a raw block), read block by block in link order. */
export async function readUnixfsFile(cid: CID, fetchBlock: (cid: CID) => Promise<Uint8Array>, maxBytes: number): Promise<Uint8Array> {
  const parts: Uint8Array[] = []
  let length = 0
  const read = async (block: CID): Promise<void> => {
    const bytes = await fetchBlock(block)
    if (block.code !== dagPb.code) {
      parts.push(bytes)
      length += bytes.byteLength
    } else {
      const node = dagPb.decode(bytes)
      if (node.Links.length === 0) {
        const data = node.Data === undefined ? new Uint8Array() : (UnixFS.unmarshal(node.Data).data ?? new Uint8Array())
        parts.push(data)
        length += data.byteLength
      }
      for (const link of node.Links) await read(link.Hash)
    }
    if (length > maxBytes) throw new BlockUnavailableError(`${cid} is larger than ${maxBytes} bytes`)
  }
  await read(cid)
  return Buffer.concat(parts)
}
