// Headers that keep the box's origin to its own pages, on every answer (films and errors included).
import type { FastifyInstance } from 'fastify'
import fastifyHelmet from '@fastify/helmet'

/**
 * Scripts only from the box's own files (the pages carry no inline script: server/ui/page.ts), no
 * framing by any other page, nothing loaded from elsewhere: a file the box serves that a browser would
 * render as a page still runs no script the box did not ship. Helmet's default policy is not used: its
 * `upgrade-insecure-requests` would send a TV's requests to an HTTPS port the box does not have.
 */
const CSP_DIRECTIVES = {
  defaultSrc: ["'self'"],
  scriptSrc: ["'self'"],
  imgSrc: ["'self'", 'data:'],
  // hls.js plays through Media Source Extensions: the <video> takes a blob: URL the page itself made
  mediaSrc: ["'self'", 'blob:'],
  objectSrc: ["'none'"],
  baseUri: ["'none'"],
  formAction: ["'self'"],
  frameAncestors: ["'none'"]
}

/**
 * @fastify/helmet sets the headers on the raw response at onRequest, so answers written on a hijacked
 * reply (film streams) carry them too. Beside the CSP: nosniff (a film is a video whatever its bytes look
 * like), no framing, no referrer, resources and windows kept to this origin. No HSTS: the box serves HTTP
 * on the LAN, and a browser ignores HSTS over HTTP anyway.
 */
export async function securityHeaders(app: FastifyInstance): Promise<void> {
  await app.register(fastifyHelmet, {
    global: true,
    contentSecurityPolicy: { useDefaults: false, directives: CSP_DIRECTIVES },
    frameguard: { action: 'deny' },
    referrerPolicy: { policy: 'no-referrer' },
    crossOriginResourcePolicy: { policy: 'same-origin' },
    crossOriginOpenerPolicy: { policy: 'same-origin' },
    strictTransportSecurity: false
  })
}
