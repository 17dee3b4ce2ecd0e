// Headers that keep the box's origin to its own pages, on every answer (films and errors included).
import type { onRequestHookHandler } from 'fastify'

/**
 * Scripts only from the box's own files (the pages carry no inline script: server/ui/page.ts), no
 * framing by any other page, nothing loaded from elsewhere: a file the box serves that a browser would render as a
 * page still runs no script the box did not ship.
 */
export const CONTENT_SECURITY_POLICY = [
  "default-src 'self'",
  "script-src 'self'",
  "img-src 'self' data:",
  "object-src 'none'",
  "base-uri 'none'",
  "form-action 'self'",
  "frame-ancestors 'none'"
].join('; ')

const HEADERS = {
  'content-security-policy': CONTENT_SECURITY_POLICY,
  // never guess a type: a film is a video whatever its bytes look like
  'x-content-type-options': 'nosniff',
  'x-frame-options': 'DENY',
  'referrer-policy': 'no-referrer',
  'cross-origin-resource-policy': 'same-origin',
  'cross-origin-opener-policy': 'same-origin'
}

/**
 * Set at onRequest, so answers sent on the raw response (film streams hijack the reply) carry them too.
 * (@fastify/helmet would set much the same; it is not a dependency, and these few headers need no more.)
 */
export const securityHeaders: onRequestHookHandler = async (_request, reply) => {
  reply.headers(HEADERS)
}
