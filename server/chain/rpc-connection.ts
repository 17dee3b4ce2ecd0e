// The HTTP side of the chain's JSON-RPC: every request has a deadline, and a request past it is
// cancelled, its socket closed. ethers' own Node transport (6.x) only rejects a timed-out request
// and leaves its socket open, so an RPC that accepts and never answers would collect sockets, one
// per retry; and its default deadline is five minutes, for which a sync (and its recovery) would wait.
import { FetchRequest, type FetchGetUrlFunc } from 'ethers'

/** How long one JSON-RPC request may take by default: a slow public RPC's eth_getLogs fits well within it. */
export const DEFAULT_RPC_TIMEOUT_MS = 30_000

const getUrl: FetchGetUrlFunc = async (req, cancel) => {
  const controller = new AbortController()
  cancel?.addListener(() => controller.abort())
  const signal = AbortSignal.any([controller.signal, AbortSignal.timeout(req.timeout)])
  try {
    const response = await fetch(req.url, {
      method: req.method,
      headers: req.headers,
      body: req.body as Uint8Array<ArrayBuffer> | null,
      signal
    })
    const body = new Uint8Array(await response.arrayBuffer())
    return {
      statusCode: response.status,
      statusMessage: response.statusText,
      headers: Object.fromEntries(response.headers),
      body: body.byteLength === 0 ? null : body
    }
  } catch (err) {
    if (signal.aborted && !controller.signal.aborted) throw new Error(`the chain RPC did not answer within ${req.timeout / 1000} s`)
    // fetch's own message is "fetch failed"; the reason (ECONNREFUSED, a reset) is its cause
    const reason = (err as Error).cause instanceof Error ? ((err as Error).cause as Error).message : (err as Error).message
    throw new Error(`the chain RPC cannot be reached: ${reason}`)
  }
}

/** The connection a JsonRpcProvider is made with (it copies it for every request). */
export function rpcConnection(url: string, timeoutMs: number = DEFAULT_RPC_TIMEOUT_MS): FetchRequest {
  const request = new FetchRequest(url)
  request.timeout = timeoutMs
  request.getUrlFunc = getUrl
  return request
}
