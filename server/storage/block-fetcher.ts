// How a box gets a block it does not hold: over HTTP from a box the registry lists as holding the
// DAG (its block route, BLOCK_PATH), checked against the CID before it is stored, and over bitswap
// when no such box is known or none of them serves it. Whoever fetches a DAG may also name a holder
// of it for a while (hintHolder: the library names a film's custodian, so a box without a monitor
// pins over HTTP too). On loopback bitswap moved 20-33 MiB/s at best and stalled now and then; the
// block route runs at about 0.7 of a plain HTTP download of the same bytes, with a third of
// bitswap's CPU (bench/replication.ts).
//
// Requests go out a few at a time per node, and playback's requests wait at the head of the queue,
// so a film played while it is still pinning is not served behind the pin's window.
import type { IncomingMessage } from 'node:http'
import https from 'node:https'
import type { Helia } from 'helia'
import type { CID } from 'multiformats/cid'
import { BLOCK_PATH } from '../wire/monitor-protocol.ts'
import { blockMatches } from '../wire/block-hash.ts'
import { readCappedBody } from '../lib/capped-body.ts'
import { MAX_BLOCK_BYTES } from '../wire/dag-bounds.ts'
import { peerOrigin } from '../lib/peer-url.ts'
import { http } from '../lib/node-http.ts'

/** The API URLs of boxes said to hold the DAG under `root` (this box left out). */
export type BlockHolders = (root: CID, signal?: AbortSignal) => Promise<string[]>

/** Playback reads go ahead of pinning's. */
export type FetchPriority = 'playback' | 'pin'

export interface FetchOptions {
  /** The DAG the block belongs to: its holders are asked. */
  root: CID
  priority: FetchPriority
  signal?: AbortSignal
  /** Most bytes the block may have (a leaf: the size its parent lists); MAX_BLOCK_BYTES when not said. */
  maxBytes?: number
}

export interface FetchFigures {
  /** Block bytes fetched over the block route, checked and stored. */
  httpBytes: number
  /** Block bytes fetched over bitswap. */
  bitswapBytes: number
  /** Answers not taken: refused (quiet hours), failed, or bytes that did not match their CID. */
  refusedAnswers: number
}

/** Block route requests one node has open at once: enough to keep a LAN link busy, few enough that a playback read waits little. */
export const HTTP_FETCH_CONCURRENCY = 6
const REQUEST_TIMEOUT_MS = 60_000
/** How long a holder is skipped after it failed, or after it sent bytes that were not the block. */
const FAILED_HOLDER_PAUSE_MS = 30_000
const WRONG_HOLDER_PAUSE_MS = 10 * 60_000

/** How one node gets the blocks it does not hold; made once per node (createStorageNode). */
export interface BlockFetcher {
  /**
   * The bytes of a block this node does not hold, fetched and stored (Helia's put, which also tells
   * bitswap, so peers waiting for the block get it). Throws what bitswap throws when nobody has it.
   */
  fetch(cid: CID, opts: FetchOptions): Promise<Uint8Array>
  /**
   * Names the box at `apiUrl` as a holder of the DAGs under `roots`, asked over HTTP alongside the
   * registry's holders until the returned function is called. The URL is only as trusted as where it
   * came from (a film's metadata, fetched by CID): what it sends is checked against each CID all the same.
   */
  hintHolder(roots: CID[], apiUrl: string): () => void
  figures(): FetchFigures
}

/**
 * The fetcher of the node whose blockstore is `node.blockstore` (read at each use: bitswap's fallback
 * and the put go through Helia's). `holders`: where it finds HTTP holders of a DAG; undefined: bitswap only.
 */
export function createBlockFetcher(node: Pick<Helia, 'blockstore'>, holders: BlockHolders | undefined): BlockFetcher {
  /** Holders named by hintHolder, per root CID: URL → how many hints name it (hints may overlap). */
  const hinted = new Map<string, Map<string, number>>()
  const slots = createSlots(HTTP_FETCH_CONCURRENCY)
  /** Holders not asked until the time given (this process's clock, ms). */
  const paused = new Map<string, number>()
  const figures: FetchFigures = { httpBytes: 0, bitswapBytes: 0, refusedAnswers: 0 }

  return {
    async fetch(cid, opts) {
      const listed = holders === undefined ? [] : await holders(opts.root, opts.signal)
      const candidates = [...new Set([...listed, ...(hinted.get(opts.root.toString())?.keys() ?? [])])]
      // each block starts at a holder of its own, so the boxes that hold a film share the load of sending it
      const first = Math.floor(Math.random() * candidates.length)
      for (const apiUrl of [...candidates.slice(first), ...candidates.slice(0, first)]) {
        if ((paused.get(apiUrl) ?? 0) > Date.now()) continue
        opts.signal?.throwIfAborted()
        const release = await slots.acquire(opts.priority, opts.signal)
        let answer: Answer
        try {
          answer = await requestBlock(apiUrl, cid, Math.min(opts.maxBytes ?? MAX_BLOCK_BYTES, MAX_BLOCK_BYTES), opts.signal)
        } finally {
          release()
        }
        if (answer.kind === 'bytes') {
          await node.blockstore.put(cid, answer.bytes, { signal: opts.signal })
          figures.httpBytes += answer.bytes.byteLength
          return answer.bytes
        }
        opts.signal?.throwIfAborted()
        if (answer.kind === 'missing') continue
        figures.refusedAnswers++
        paused.set(apiUrl, Date.now() + answer.pauseMs)
      }
      const parts: Uint8Array[] = []
      for await (const part of node.blockstore.get(cid, { signal: opts.signal })) parts.push(part)
      const bytes = parts.length === 1 ? parts[0] : Buffer.concat(parts)
      figures.bitswapBytes += bytes.byteLength
      return bytes
    },

    hintHolder(roots, apiUrl) {
      // BLOCK_PATH is appended to it: scheme, host and port only (node:http follows no redirect)
      const url = peerOrigin(apiUrl)
      const keys = roots.map(String)
      for (const key of keys) {
        const urls = hinted.get(key) ?? new Map<string, number>()
        urls.set(url, (urls.get(url) ?? 0) + 1)
        hinted.set(key, urls)
      }
      let released = false
      return () => {
        if (released) return
        released = true
        for (const key of keys) {
          const urls = hinted.get(key) as Map<string, number>
          const count = (urls.get(url) as number) - 1
          if (count > 0) urls.set(url, count)
          else urls.delete(url)
          if (urls.size === 0) hinted.delete(key)
        }
      }
    },

    figures: () => ({ ...figures })
  }
}

type Answer = { kind: 'bytes'; bytes: Uint8Array } | { kind: 'missing' } | { kind: 'refused'; pauseMs: number }

/**
 * One block from one box's block route, of at most `maxBytes`; bytes only when they are the block
 * `cid` names. A longer answer is refused unread: a block of that CID has that size whoever sends it.
 */
async function requestBlock(apiUrl: string, cid: CID, maxBytes: number, signal?: AbortSignal): Promise<Answer> {
  const timeout = AbortSignal.timeout(REQUEST_TIMEOUT_MS)
  let reply: Reply
  try {
    reply = await get(
      `${apiUrl}${BLOCK_PATH.replace(':cid', cid.toString())}`,
      maxBytes,
      signal === undefined ? timeout : AbortSignal.any([signal, timeout])
    )
  } catch {
    return { kind: 'refused', pauseMs: FAILED_HOLDER_PAUSE_MS }
  }
  if (reply.status === 404) return { kind: 'missing' }
  if (reply.body === undefined) {
    // quiet hours answer 503 with the minutes left in Retry-After's seconds
    const retryAfterSec = Number(reply.retryAfter)
    return { kind: 'refused', pauseMs: Number.isFinite(retryAfterSec) && retryAfterSec > 0 ? retryAfterSec * 1000 : FAILED_HOLDER_PAUSE_MS }
  }
  if (!(await blockMatches(cid, reply.body))) return { kind: 'refused', pauseMs: WRONG_HOLDER_PAUSE_MS }
  return { kind: 'bytes', bytes: reply.body }
}

type Reply = { status: number; retryAfter?: string; body?: Buffer }

/** Connections kept open between blocks: a pin asks the same few boxes for thousands of them. */
const agents = { 'http:': new http.Agent({ keepAlive: true }), 'https:': new https.Agent({ keepAlive: true }) }

/**
 * A GET answered 200 with a body of its Content-Length, at most `maxBytes`, read into one buffer
 * (readCappedBody: a body running past its Content-Length is cut off there); any other status without
 * its body. node:http rather than fetch: for a stream of 1 MiB bodies it costs the receiving box about
 * a quarter less CPU (bench/replication.ts).
 */
async function get(url: string, maxBytes: number, signal: AbortSignal): Promise<Reply> {
  const { protocol } = new URL(url)
  if (protocol !== 'http:' && protocol !== 'https:') throw new TypeError(`not an HTTP URL: ${url}`)
  const client = protocol === 'http:' ? http : https
  const response = await new Promise<IncomingMessage>((resolve, reject) => {
    const request = client.get(url, { agent: agents[protocol], signal, headers: { accept: 'application/vnd.ipld.raw' } }, resolve)
    request.on('error', reject)
  })
  const status = response.statusCode ?? 0
  if (status !== 200) {
    response.resume()
    return { status, retryAfter: response.headers['retry-after'] }
  }
  const length = Number(response.headers['content-length'])
  if (!Number.isSafeInteger(length) || length > maxBytes) {
    response.destroy()
    throw new RangeError(`a block must come with a Content-Length of at most ${maxBytes}`)
  }
  const body = await readCappedBody(response, length)
  if (body.byteLength !== length) throw new RangeError('a body shorter than its Content-Length')
  return { status, body }
}

interface Slots {
  /** Resolves with a release function once a slot is free; playback waiters are served first. */
  acquire(priority: FetchPriority, signal?: AbortSignal): Promise<() => void>
}

function createSlots(limit: number): Slots {
  let busy = 0
  const waiting: Record<FetchPriority, Array<() => void>> = { playback: [], pin: [] }
  const release = (): void => {
    const next = waiting.playback.shift() ?? waiting.pin.shift()
    if (next === undefined) busy--
    else next()
  }
  return {
    async acquire(priority, signal) {
      signal?.throwIfAborted()
      if (busy < limit) {
        busy++
        return release
      }
      await new Promise<void>((resolve, reject) => {
        const queue = waiting[priority]
        const onAbort = (): void => {
          queue.splice(queue.indexOf(granted), 1)
          reject(signal?.reason)
        }
        const granted = (): void => {
          signal?.removeEventListener('abort', onAbort)
          resolve()
        }
        queue.push(granted)
        signal?.addEventListener('abort', onAbort, { once: true })
      })
      return release
    }
  }
}
