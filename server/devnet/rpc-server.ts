// A small JSON-RPC 2.0 server over node:http that hands each call to an EIP-1193 provider.
import type { IncomingMessage, ServerResponse } from 'node:http'
import { http } from '../lib/node-http.ts'
import type { AddressInfo } from 'node:net'
import type { Eip1193Provider } from './edr-provider.ts'

export type JsonRpcServerOptions = {
  host?: '127.0.0.1'
  /** 0 picks a free port; the real one is in the returned url */
  port: number
  /** requests with a larger body are refused with HTTP 413 (default 5 MiB) */
  maxBodyBytes?: number
}

export type JsonRpcServer = { url: string; close(): Promise<void> }

export class RequestTooLargeError extends Error {
  constructor(limit: number) {
    super(`JSON-RPC request body exceeds ${limit} bytes`)
    this.name = 'RequestTooLargeError'
  }
}

type JsonRpcId = string | number | null
type JsonRpcError = { code: number; message: string; data?: unknown }
type JsonRpcResponse = { jsonrpc: '2.0'; id: JsonRpcId } & ({ result: unknown } | { error: JsonRpcError })

const PARSE_ERROR = -32700
const INVALID_REQUEST = -32600
const INTERNAL_ERROR = -32603
const DEFAULT_MAX_BODY_BYTES = 5 * 1024 * 1024

function errorResponse(id: JsonRpcId, error: JsonRpcError): JsonRpcResponse {
  return { jsonrpc: '2.0', id, error }
}

// Provider errors (EdrRpcError and alike) carry code/message/data; anything else is internal.
function toJsonRpcError(err: unknown): JsonRpcError {
  const { code, message, data } = err as { code?: unknown; message?: unknown; data?: unknown }
  const error: JsonRpcError = {
    code: Number.isInteger(code) ? (code as number) : INTERNAL_ERROR,
    message: typeof message === 'string' ? message : String(err)
  }
  if (data !== undefined && data !== null) error.data = data
  return error
}

function isValidId(id: unknown): id is JsonRpcId {
  return id === null || typeof id === 'string' || typeof id === 'number'
}

/** Runs one call; undefined for a notification (no id), which gets no response. */
async function handleCall(provider: Eip1193Provider, call: unknown): Promise<JsonRpcResponse | undefined> {
  if (typeof call !== 'object' || call === null || Array.isArray(call)) {
    return errorResponse(null, { code: INVALID_REQUEST, message: 'request must be a JSON object' })
  }
  const { id, method, params } = call as { id?: unknown; method?: unknown; params?: unknown }
  const replyId = isValidId(id) ? id : null
  if (id !== undefined && !isValidId(id)) {
    return errorResponse(null, { code: INVALID_REQUEST, message: 'id must be a string, number or null' })
  }
  if (typeof method !== 'string' || method === '') {
    return errorResponse(replyId, { code: INVALID_REQUEST, message: 'method must be a non-empty string' })
  }
  if (params !== undefined && !Array.isArray(params)) {
    return errorResponse(replyId, { code: INVALID_REQUEST, message: 'params must be an array' })
  }
  let response: JsonRpcResponse
  try {
    response = { jsonrpc: '2.0', id: replyId, result: (await provider.request({ method, params: params ?? [] })) ?? null }
  } catch (err) {
    response = errorResponse(replyId, toJsonRpcError(err))
  }
  return id === undefined ? undefined : response
}

async function readBody(req: IncomingMessage, limit: number): Promise<string> {
  const declared = Number(req.headers['content-length'])
  if (declared > limit) throw new RequestTooLargeError(limit)
  const chunks: Buffer[] = []
  let size = 0
  for await (const chunk of req as AsyncIterable<Buffer>) {
    size += chunk.length
    if (size > limit) throw new RequestTooLargeError(limit)
    chunks.push(chunk)
  }
  return Buffer.concat(chunks).toString('utf8')
}

function send(res: ServerResponse, status: number, body?: unknown): void {
  if (body === undefined) {
    res.writeHead(status).end()
    return
  }
  const json = JSON.stringify(body)
  res.writeHead(status, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(json) }).end(json)
}

async function handleHttp(provider: Eip1193Provider, limit: number, req: IncomingMessage, res: ServerResponse) {
  if (req.method !== 'POST') {
    res.setHeader('allow', 'POST')
    send(res, 405, errorResponse(null, { code: INVALID_REQUEST, message: 'JSON-RPC requests must be POSTed' }))
    return
  }
  let text: string
  try {
    text = await readBody(req, limit)
  } catch (err) {
    if (!(err instanceof RequestTooLargeError)) throw err
    res.setHeader('connection', 'close')
    send(res, 413, errorResponse(null, { code: INVALID_REQUEST, message: err.message }))
    return
  }
  let payload: unknown
  try {
    payload = JSON.parse(text)
  } catch {
    send(res, 200, errorResponse(null, { code: PARSE_ERROR, message: 'Parse error: body is not valid JSON' }))
    return
  }
  if (!Array.isArray(payload)) {
    const response = await handleCall(provider, payload)
    send(res, response === undefined ? 204 : 200, response)
    return
  }
  if (payload.length === 0) {
    send(res, 200, errorResponse(null, { code: INVALID_REQUEST, message: 'batch must not be empty' }))
    return
  }
  // Calls of a batch run in order: a transaction followed by a read sees its own effect.
  const responses: JsonRpcResponse[] = []
  for (const call of payload) {
    const response = await handleCall(provider, call)
    if (response !== undefined) responses.push(response)
  }
  send(res, responses.length === 0 ? 204 : 200, responses.length === 0 ? undefined : responses)
}

/** Serves `provider` as JSON-RPC 2.0 over HTTP POST on 127.0.0.1 (single calls and batches). */
export async function serveJsonRpc(provider: Eip1193Provider, opts: JsonRpcServerOptions): Promise<JsonRpcServer> {
  const host = opts.host ?? '127.0.0.1'
  const limit = opts.maxBodyBytes ?? DEFAULT_MAX_BODY_BYTES
  const server = http.createServer((req, res) => {
    handleHttp(provider, limit, req, res).catch((err: unknown) => {
      if (!res.headersSent) send(res, 500, errorResponse(null, toJsonRpcError(err)))
      else res.destroy()
    })
  })
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject)
    server.listen(opts.port, host, () => {
      server.off('error', reject)
      resolve()
    })
  })
  const { port } = server.address() as AddressInfo
  return {
    url: `http://${host}:${port}`,
    close: () =>
      new Promise<void>((resolve, reject) => {
        server.close(err => (err ? reject(err) : resolve()))
        server.closeAllConnections()
      })
  }
}
