import { LogController, type FastifyReply, type FastifyRequest } from 'fastify'

/**
 * A request's address as the logs keep it: the path, with any query string replaced by `?…`. Query
 * values can be secrets (the pairing code of `/pair?code=`, `/api/pairing/message` and
 * `/api/pairing/qr.svg`), and logs travel further than the box (the journal, a support bundle).
 */
export function loggedUrl(url: string): string {
  const query = url.indexOf('?')
  return query === -1 ? url : `${url.slice(0, query)}?…`
}

/** What a logged request carries: a Fastify request, or the raw one (`ip` and `host` are Fastify's). */
interface LoggedRequest {
  method?: string
  url?: string
  ip?: string
  host?: string
  socket?: { remotePort?: number } | null
}

/** Fastify's request serializer, with the address as loggedUrl gives it. */
export const requestLogSerializers = {
  req: (request: LoggedRequest) => ({
    method: request.method,
    url: loggedUrl(request.url ?? ''),
    host: request.host,
    remoteAddress: request.ip,
    remotePort: request.socket?.remotePort
  })
}

/** Fastify's own log lines; the one for an unknown route names its address as loggedUrl gives it. */
export class RequestLogController extends LogController {
  override routeNotFound(request: FastifyRequest, _reply: FastifyReply): void {
    if (this.isLogDisabled(request)) return
    request.log.info(`Route ${request.raw.method}:${loggedUrl(request.raw.url ?? '')} not found`)
  }
}
