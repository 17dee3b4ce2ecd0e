// A JSON-RPC proxy on 127.0.0.1 in front of a real chain RPC, switchable into the ways an RPC fails:
// gone (connection refused), resetting connections, hanging, or answering garbage. Closed when the test ends.
import http from 'node:http'
import type net from 'node:net'
import type { Test } from './in-process.ts'

export type RpcProxyMode =
  /** forwards every request */
  | 'pass'
  /** the port is closed: connection refused */
  | 'down'
  /** accepts connections and resets them */
  | 'reset'
  /** accepts requests and never answers */
  | 'hang'
  /** 200 with an HTML error page */
  | 'not-json'
  /** well-formed JSON-RPC answers whose results have the wrong shape */
  | 'wrong-shape'
  /** JSON-RPC error objects */
  | 'rpc-error'
  /** forwards, but says it serves another chain */
  | 'wrong-chain'

export interface RpcProxy {
  url: string
  mode(): RpcProxyMode
  setMode(mode: RpcProxyMode): Promise<void>
  /** Requests (connections, in reset mode) that reached the proxy since the last setMode. */
  requests(): number
  /** Requests held unanswered now (hang mode). */
  hanging(): number
  close(): Promise<void>
}

export type RpcCall = { id?: unknown; method?: unknown; params?: unknown }

/** The chain id the proxy claims in wrong-chain mode: Ethereum mainnet. */
export const WRONG_CHAIN_ID = '0x1'

function answerEach(body: string, answer: (call: RpcCall) => object): string {
  const parsed = JSON.parse(body) as RpcCall | RpcCall[]
  const answers = (Array.isArray(parsed) ? parsed : [parsed]).map(call => ({ jsonrpc: '2.0', id: call.id ?? null, ...answer(call) }))
  return JSON.stringify(Array.isArray(parsed) ? answers : answers[0])
}

/** `onCall` sees every JSON-RPC call that reaches the proxy (each of a batch), in any mode that reads requests. */
export async function startRpcProxy(t: Test, upstreamUrl: string, onCall?: (call: RpcCall) => void): Promise<RpcProxy> {
  let mode: RpcProxyMode = 'pass'
  let count = 0
  const held = new Set<http.ServerResponse>()
  const sockets = new Set<net.Socket>()

  async function forward(body: string): Promise<string> {
    const response = await fetch(upstreamUrl, { method: 'POST', headers: { 'content-type': 'application/json' }, body })
    return await response.text()
  }

  async function reply(mode: RpcProxyMode, body: string, res: http.ServerResponse): Promise<void> {
    if (onCall !== undefined) for (const call of [JSON.parse(body) as RpcCall | RpcCall[]].flat()) onCall(call)
    const json = (text: string): void => {
      res.writeHead(200, { 'content-type': 'application/json' }).end(text)
    }
    switch (mode) {
      case 'hang':
        held.add(res)
        res.on('close', () => held.delete(res))
        return
      case 'not-json':
        res.writeHead(200, { 'content-type': 'text/html' }).end('<html><body><h1>502 Bad Gateway</h1></body></html>')
        return
      case 'wrong-shape':
        json(answerEach(body, () => ({ result: { unexpected: ['shape'] } })))
        return
      case 'rpc-error':
        json(answerEach(body, () => ({ error: { code: -32603, message: 'upstream node is syncing' } })))
        return
      case 'wrong-chain': {
        const upstream = JSON.parse(await forward(body)) as Array<{ id: unknown; result?: unknown }> | { id: unknown; result?: unknown }
        const calls = JSON.parse(body) as RpcCall | RpcCall[]
        const chainIdCalls = new Set((Array.isArray(calls) ? calls : [calls]).filter(c => c.method === 'eth_chainId').map(c => c.id))
        const rewrite = (a: { id: unknown; result?: unknown }): object => (chainIdCalls.has(a.id) ? { ...a, result: WRONG_CHAIN_ID } : a)
        json(JSON.stringify(Array.isArray(upstream) ? upstream.map(rewrite) : rewrite(upstream)))
        return
      }
      default:
        json(await forward(body))
    }
  }

  const server = http.createServer((req, res) => {
    count++
    const parts: Buffer[] = []
    req.on('data', (part: Buffer) => parts.push(part))
    req.on('end', () => {
      reply(mode, Buffer.concat(parts).toString('utf8'), res).catch((err: Error) => {
        res.writeHead(502, { 'content-type': 'text/plain' }).end(`proxy: ${err.message}`)
      })
    })
  })
  server.on('connection', socket => {
    if (mode === 'reset') {
      count++
      socket.resetAndDestroy()
      return
    }
    sockets.add(socket)
    socket.on('close', () => sockets.delete(socket))
  })

  const listen = async (port: number): Promise<void> => {
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject)
      server.listen(port, '127.0.0.1', () => {
        server.off('error', reject)
        resolve()
      })
    })
  }
  const stopListening = async (): Promise<void> => {
    if (!server.listening) return
    const closed = new Promise<void>(resolve => server.close(() => resolve()))
    for (const socket of sockets) socket.destroy()
    await closed
  }

  await listen(0)
  const port = (server.address() as net.AddressInfo).port
  const proxy: RpcProxy = {
    url: `http://127.0.0.1:${port}`,
    mode: () => mode,
    async setMode(next) {
      for (const res of held) res.destroy()
      // connections kept alive from the last mode would carry on as if nothing changed
      for (const socket of sockets) socket.destroy()
      if (next === 'down') await stopListening()
      else if (!server.listening) await listen(port)
      mode = next
      count = 0
    },
    requests: () => count,
    hanging: () => held.size,
    close: stopListening
  }
  t.teardown(proxy.close)
  return proxy
}
