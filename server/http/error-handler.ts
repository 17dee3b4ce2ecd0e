// The one place where an error meets HTTP: each code's status, and the handler every app registers.
import { http } from '../lib/node-http.ts'
import type { FastifyInstance } from 'fastify'
import { SeedError, type ErrorCode } from '../lib/errors.ts'

/** The HTTP status each code is answered with. */
export const STATUS_OF_CODE: Record<ErrorCode, number> = {
  SEED_STARTING: 503,
  SEED_WRONG_HOST: 421,
  SEED_BAD_HOST_HEADER: 400,
  SEED_RATE_LIMITED: 429,
  SEED_TOO_MANY_LISTENERS: 503,
  SEED_DISK_FULL: 507,
  SEED_CHAIN_UNAVAILABLE: 503,
  SEED_NOT_SIGNED_IN: 401,
  SEED_NOT_THE_OWNER: 403,
  SEED_NOT_PAIRED: 404,
  SEED_PAIRED_ELSEWHERE: 409,
  SEED_NO_PAIRING_CODE: 404,
  SEED_PAIRING_CODE_REFUSED: 403,
  SEED_SIGN_IN_LINK_REFUSED: 403,
  SEED_AUTHORISATION_REFUSED: 401,
  SEED_BAD_REVOCATION: 400,
  SEED_DEVICE_REVOKED: 401,
  SEED_BAD_ADDRESS: 400,
  SEED_FILM_NOT_FOUND: 404,
  SEED_FILM_ASSET_NOT_FOUND: 404,
  SEED_FILM_NOT_READY: 409,
  SEED_FILM_NOT_OWNED: 403,
  SEED_UNPAIRED: 403,
  SEED_FILM_KEY_MISSING: 403,
  SEED_FILM_KEY_UNCONFIRMED: 403,
  SEED_POSITION_PAST_END: 400,
  SEED_SEALED_FILM_DAMAGED: 500, // the box's own copy is damaged
  SEED_FILM_BLOCKS_TIMEOUT: 504, // the box waited on the network
  SEED_NO_DISK_WAITING: 409,
  SEED_DISK_CHANGED: 409,
  SEED_BAD_KEY_REQUEST: 400,
  SEED_KEY_REQUEST_STALE: 401,
  SEED_BAD_SIGNATURE: 401,
  SEED_FILM_NOT_PUBLISHED_HERE: 403,
  SEED_CREATOR_NOT_SERVED: 403,
  SEED_NOT_A_HOLDER: 403,
  SEED_FILM_KEY_NOT_HELD: 404,
  SEED_KEY_REQUEST_FAILED: 502,
  SEED_BAD_CID: 400,
  SEED_BAD_CHALLENGE: 400,
  SEED_BLOCK_NOT_FOUND: 404,
  SEED_QUIET_HOURS: 503,
  SEED_BAD_DOWNTIME: 400,
  SEED_BAD_REPORT: 400,
  SEED_NOT_ADMITTED: 403,
  SEED_REPORT_REPLAYED: 409,
  SEED_NODE_NOT_FOUND: 404,
  SEED_PINNING_TOKEN_REFUSED: 401,
  SEED_PINNING_TOKEN_NOT_FOUND: 404,
  SEED_PIN_REQUEST_NOT_FOUND: 404,
  SEED_BAD_PIN_QUERY: 400,
  SEED_QUOTA_EXCEEDED: 409
}

/** An error answer's body, as Fastify serialises an error: for a route that adds fields of its own to it. */
export function errorAnswer(err: SeedError): { statusCode: number; code: ErrorCode; error: string; message: string } {
  const statusCode = STATUS_OF_CODE[err.code]
  return { statusCode, code: err.code, error: http.STATUS_CODES[statusCode] ?? 'Error', message: err.message }
}

/**
 * Answers a SeedError with its code's status, then lets Fastify's own handler do the rest for every
 * error: the answer `{ statusCode, code, error, message }`, and the log line (4xx at info, 5xx at error).
 * Errors of Fastify and its plugins (FST_ERR_VALIDATION, FST_CSRF_INVALID_TOKEN, ...) keep their
 * own status and code. Registered once on each app, before its routes.
 */
export function answerErrorsByCode(app: FastifyInstance): void {
  const fastifyDefault = app.errorHandler
  app.setErrorHandler((err, request, reply) => {
    if (err instanceof SeedError) reply.code(STATUS_OF_CODE[err.code])
    fastifyDefault(err, request, reply)
  })
}
