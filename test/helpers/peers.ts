// Stand-ins for peers, on 127.0.0.1, closed when the test ends: a box that only answers for its key
// (the identity route as a daemon serves it), and a host that records every request it receives.
import http from 'node:http'
import type { AddressInfo } from 'node:net'
import Fastify from 'fastify'
import type { DeviceIdentity } from '../../server/identity/device-identity.ts'
import { answerErrorsByCode } from '../../server/http/error-handler.ts'
import { identityRoutes } from '../../server/identity/identity-routes.ts'
import type { Test } from './in-process.ts'

/** A box's identity route and nothing else, answering for `identity` at its own URL. */
export async function startIdentityBox(t: Test, identity: DeviceIdentity): Promise<{ url: string }> {
  const app = Fastify({ logger: false })
  answerErrorsByCode(app)
  let url: string | undefined
  await app.register(identityRoutes, { identity, apiUrl: () => url })
  await app.listen({ host: '127.0.0.1', port: 0 })
  t.teardown(() => app.close())
  url = `http://127.0.0.1:${(app.server.address() as AddressInfo).port}`
  return { url }
}

export interface RecordedRequest {
  method: string
  url: string
  host: string
}

/** A host that records what it receives and answers each request with `respond` (default 404). */
export async function startRecorder(
  t: Test,
  respond: (request: http.IncomingMessage, response: http.ServerResponse) => void = (_request, response) => response.writeHead(404).end()
): Promise<{ url: string; requests: RecordedRequest[] }> {
  const requests: RecordedRequest[] = []
  const server = http.createServer((request, response) => {
    requests.push({ method: request.method ?? '', url: request.url ?? '', host: request.headers.host ?? '' })
    request.resume()
    respond(request, response)
  })
  await new Promise<void>(resolve => server.listen(0, '127.0.0.1', resolve))
  t.teardown(() => new Promise<void>(resolve => server.close(() => resolve())))
  return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, requests }
}
