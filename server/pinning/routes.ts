// The IPFS Pinning Service API on a storage node (ipfs/pinning-services-api-spec): the tools a creator
// already has (Kubo's `ipfs pin remote`, IPFS Desktop, @helia/remote-pinning) drive the box's pins
// with an access token the owner made. Errors are answered in the spec's Failure shape.
import type { FastifyError, FastifyInstance, FastifyReply, FastifyRequest } from 'fastify'
import { CID } from 'multiformats/cid'
import { SeedError } from '../lib/errors.ts'
import { STATUS_OF_CODE } from '../http/error-handler.ts'
import type { PinningTokens } from './tokens.ts'
import type { Pin, PinFilter, PinRequest, PinRequests, PinState, TextMatch } from './pin-requests.ts'
import type { RemotePins } from './remote-pins.ts'
import { failureSchema, pinQuerySchema, pinResultsSchema, pinSchema, pinStatusSchema, requestIdParams } from './schemas.ts'

/** Where the API lives: a tool is given `<box URL>/api/pinning` and adds `/pins` itself. */
export const PINNING_API_PREFIX = '/api/pinning'
/** The spec's default and largest page of a listing. */
const DEFAULT_LIMIT = 10
const MAX_LIMIT = 1000

export interface PinningRoutesOptions {
  tokens: PinningTokens
  requests: PinRequests
  pins: RemotePins
  /** This box's multiaddrs, ending with its peer id: the spec's delegates, which the client dials. */
  delegates(): string[]
}

type PinQuery = {
  cid?: string
  name?: string
  match?: TextMatch
  status?: string
  before?: string
  after?: string
  limit?: string
  meta?: string
}

const errors = { 400: failureSchema, 401: failureSchema, 404: failureSchema, 409: failureSchema }

export async function pinningRoutes(app: FastifyInstance, opts: PinningRoutesOptions): Promise<void> {
  app.setErrorHandler(answerFailure)
  app.addHook('onRequest', async request => await bearerToken(opts.tokens, request))
  const statusOf = (request: PinRequest): Record<string, unknown> => ({ ...request, delegates: opts.delegates().slice(0, 20) })

  app.get<{ Querystring: PinQuery }>(
    '/pins',
    { schema: { querystring: pinQuerySchema, response: { 200: pinResultsSchema, ...errors } } },
    async request => {
      const { count, results } = await opts.requests.list(pinFilter(request.query))
      return { count, results: results.map(statusOf) }
    }
  )
  app.post<{ Body: Pin }>(
    '/pins',
    { schema: { body: pinSchema, response: { 202: pinStatusSchema, ...errors } } },
    async (request, reply) => {
      const added = await addPin(opts, request.body)
      return await reply.code(202).send(statusOf(added))
    }
  )
  app.get<{ Params: { requestid: string } }>(
    '/pins/:requestid',
    { schema: { params: requestIdParams, response: { 200: pinStatusSchema, ...errors } } },
    async request => statusOf(await opts.requests.get(request.params.requestid))
  )
  // the spec's replace: a new request for the new pin, then the old one removed, so blocks both share stay pinned
  app.post<{ Params: { requestid: string }; Body: Pin }>(
    '/pins/:requestid',
    { schema: { params: requestIdParams, body: pinSchema, response: { 202: pinStatusSchema, ...errors } } },
    async (request, reply) => {
      const old = await opts.requests.get(request.params.requestid)
      const added = await addPin(opts, request.body, old.pin.cid)
      await opts.pins.release(await opts.requests.remove(old.requestid), true)
      return await reply.code(202).send(statusOf(added))
    }
  )
  app.delete<{ Params: { requestid: string } }>(
    '/pins/:requestid',
    { schema: { params: requestIdParams, response: errors } },
    async (request, reply) => {
      await opts.pins.release(await opts.requests.remove(request.params.requestid))
      return await reply.code(202).send()
    }
  )
}

/** A new request, queued: refused at once when the quota has no room left at all (a DAG's size is known only once its root is fetched). */
async function addPin(opts: PinningRoutesOptions, pin: Pin, replaces?: string): Promise<PinRequest> {
  parseCid(pin.cid)
  const left = await opts.pins.quotaLeft()
  if (left <= 0)
    throw new SeedError(
      'SEED_QUOTA_EXCEEDED',
      `the storage quota is used up (${-left} bytes over): raise it in Settings or delete pins first`
    )
  const added = await opts.requests.add(pin, replaces)
  opts.pins.wake()
  return added
}

function parseCid(text: string): CID {
  try {
    return CID.parse(text)
  } catch {
    throw new SeedError('SEED_BAD_CID', `not a CID: "${text}"`)
  }
}

/** The `Authorization: Bearer <token>` of a token the owner made and has not revoked. */
async function bearerToken(tokens: PinningTokens, request: FastifyRequest): Promise<void> {
  const [scheme, secret] = (request.headers.authorization ?? '').split(' ')
  if (scheme?.toLowerCase() === 'bearer' && secret !== undefined && secret !== '' && (await tokens.verify(secret)) !== undefined) return
  throw new SeedError(
    'SEED_PINNING_TOKEN_REFUSED',
    'this API needs an access token the box owner made (`seed-one pinning-token create` on the box, or POST /api/pinning/tokens signed in as the owner), sent as "Authorization: Bearer <token>"; this one is missing, wrong or revoked'
  )
}

function pinFilter(query: PinQuery): PinFilter {
  const limit = query.limit === undefined ? DEFAULT_LIMIT : Number(query.limit)
  if (limit < 1 || limit > MAX_LIMIT)
    throw new SeedError('SEED_BAD_PIN_QUERY', `limit must be between 1 and ${MAX_LIMIT}, not ${query.limit}`)
  return {
    cids: query.cid?.split(','),
    name: query.name,
    match: query.match ?? 'exact',
    statuses: (query.status?.split(',') as PinState[] | undefined) ?? ['pinned'],
    before: query.before === undefined ? undefined : new Date(query.before).toISOString(),
    after: query.after === undefined ? undefined : new Date(query.after).toISOString(),
    limit,
    meta: query.meta === undefined ? undefined : parseMeta(query.meta)
  }
}

function parseMeta(text: string): Record<string, string> {
  let meta: unknown
  try {
    meta = JSON.parse(text)
  } catch {
    meta = undefined
  }
  if (typeof meta !== 'object' || meta === null || Array.isArray(meta) || Object.values(meta).some(v => typeof v !== 'string'))
    throw new SeedError(
      'SEED_BAD_PIN_QUERY',
      'meta must be a JSON object of strings, e.g. {"app_id":"99986338-1113-4706-8302-4420da6158aa"}'
    )
  return meta as Record<string, string>
}

/** The spec's Failure: `{ error: { reason, details } }`, the reason being the error's code. */
function answerFailure(err: FastifyError | SeedError, request: FastifyRequest, reply: FastifyReply): void {
  const status = err instanceof SeedError ? STATUS_OF_CODE[err.code] : (err.statusCode ?? 500)
  if (status >= 500) request.log.error({ err }, 'pinning API request failed')
  else request.log.info({ code: err.code, err: err.message }, 'pinning API request refused')
  const details = status >= 500 && !(err instanceof SeedError) ? 'the box could not do this now; try again later' : err.message
  void reply.code(status).send({ error: { reason: err.code ?? 'INTERNAL_ERROR', details } })
}
