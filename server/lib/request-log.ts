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

/**
 * Fastify's own log lines; the one for an unknown route names its address as loggedUrl gives it, and a
 * client error (4xx: a block not held here, a film not found, a schema refusal) is routine, so it is
 * logged at debug with its code and message and no stack trace; the request line says its status.
 */
export class RequestLogController extends LogController {
  override defaultErrorLog(error: Error & { code?: string }, request: FastifyRequest, reply: FastifyReply): void {
    if (reply.statusCode >= 500) {
      super.defaultErrorLog(error, request, reply)
      return
    }
    if (this.isLogDisabled(request)) return
    reply.log.debug({ statusCode: reply.statusCode, code: error.code }, error.message)
  }

  override routeNotFound(request: FastifyRequest, _reply: FastifyReply): void {
    if (this.isLogDisabled(request)) return
    request.log.info(`Route ${request.raw.method}:${loggedUrl(request.raw.url ?? '')} not found`)
  }
}
