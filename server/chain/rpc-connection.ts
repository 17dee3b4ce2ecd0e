// The HTTP side of the chain's JSON-RPC: every request has a deadline, and a request past it is
// cancelled, its socket closed. ethers' own Node transport (6.x) only rejects a timed-out request
// and leaves its socket open, so an RPC that accepts and never answers would collect sockets, one
// per retry; and its default deadline is five minutes, for which a sync (and its recovery) would wait.
// Over node:http, not fetch: the first fetch loads undici (server/lib/node-http.ts), which a box
// would otherwise hold for its chain requests alone.
import type { IncomingHttpHeaders, IncomingMessage } from 'node:http'
import https from 'node:https'
import { promisify } from 'node:util'
import { gunzip } from 'node:zlib'
import type { FetchGetUrlFunc } from 'ethers'
import { FetchRequest } from '../lib/ethers.ts'
import { http } from '../lib/node-http.ts'

/** How long one JSON-RPC request may take by default: a slow public RPC's eth_getLogs fits well within it. */
export const DEFAULT_RPC_TIMEOUT_MS = 30_000

const gunzipBody = promisify(gunzip)

/** One request and its whole answer; `signal` cancels it and closes its socket. */
async function exchange(req: FetchRequest, signal: AbortSignal): Promise<{ response: IncomingMessage; body: Buffer }> {
  const url = new URL(req.url)
  const client = url.protocol === 'https:' ? https : http
  const response = await new Promise<IncomingMessage>((resolve, reject) => {
    // as fetch asked: a public RPC's large answers (eth_getLogs) come compressed
    const request = client.request(url, { method: req.method, headers: { ...req.headers, 'accept-encoding': 'gzip' }, signal }, resolve)
    request.on('error', reject)
    request.end(req.body ?? undefined)
  })
  const chunks: Buffer[] = []
  for await (const chunk of response) chunks.push(chunk as Buffer)
  const body = Buffer.concat(chunks)
  return { response, body: response.headers['content-encoding'] === 'gzip' ? await gunzipBody(body) : body }
}

const flatHeaders = (headers: IncomingHttpHeaders): Record<string, string> =>
  Object.fromEntries(Object.entries(headers).map(([name, value]) => [name, Array.isArray(value) ? value.join(', ') : (value ?? '')]))

const getUrl: FetchGetUrlFunc = async (req, cancel) => {
  const controller = new AbortController()
  cancel?.addListener(() => controller.abort())
  const signal = AbortSignal.any([controller.signal, AbortSignal.timeout(req.timeout)])
  try {
    const { response, body } = await exchange(req, signal)
    return {
      statusCode: response.statusCode ?? 0,
      statusMessage: response.statusMessage ?? '',
      headers: flatHeaders(response.headers),
      body: body.byteLength === 0 ? null : new Uint8Array(body)
    }
  } catch (err) {
    if (signal.aborted && !controller.signal.aborted) throw new Error(`the chain RPC did not answer within ${req.timeout / 1000} s`)
    throw new Error(`the chain RPC cannot be reached: ${(err as Error).message}`)
  }
}

/** The connection a JsonRpcProvider is made with (it copies it for every request). */
export function rpcConnection(url: string, timeoutMs: number = DEFAULT_RPC_TIMEOUT_MS): FetchRequest {
  const request = new FetchRequest(url)
  request.timeout = timeoutMs
  request.getUrlFunc = getUrl
  return request
}
