import type { FastifyInstance, FastifyRequest, onRequestHookHandler } from 'fastify'
import fastifyRateLimit from '@fastify/rate-limit'
import type { Provider } from 'ethers'
import { getAddress, isAddress } from '../lib/ethers.ts'
import type { DeviceIdentity } from '../identity/device-identity.ts'
import { SeedError } from '../lib/errors.ts'
import {
  AuthorisationError,
  signedMessageSchema,
  authorisationTimes,
  buildPairingMessage,
  RENEWAL_WINDOW_MS,
  verifyOwnerAuthorisation
} from './owner-authorisation.ts'
import type { OwnerAuthorisation } from '../wire/custodian-protocol.ts'
import { CODE_PATTERN, PairingClaims } from './pairing-code.ts'
import type { PairingStore } from './pairing-store.ts'
import { phoneAuthority } from './phone-authority.ts'
import { isSignedIn, type OwnerSessions } from './owner-session.ts'

const CLAIM_COOKIE = 'seedone_claim'
/** Pairing attempts (messages asked for and signatures sent) one client address may make per minute. */
export const PAIRING_ATTEMPTS_PER_MINUTE = 10

/** GET /api/pairing, and the answers of POST and DELETE /api/pairing (which carry no code). */
export interface PairingState {
  paired: boolean
  owner: string | null
  /** True when this browser is signed in as the owner. */
  signedIn: boolean
  /** While this browser is not signed in: its code, when the code expires, and the page that signs it. */
  code?: string
  expiresAt?: string
  pairUrl?: string
  /** To the owner's browsers: when the box's authorisation ends (null: never, kept by an older release) and whether to renew it now. */
  authorisationExpiresAt?: string | null
  renewalDue?: boolean
}

const pairingStateSchema = {
  type: 'object',
  required: ['paired', 'owner', 'signedIn'],
  additionalProperties: false,
  properties: {
    paired: { type: 'boolean' },
    owner: { type: ['string', 'null'] },
    signedIn: { type: 'boolean' },
    code: { type: 'string' },
    expiresAt: { type: 'string' },
    pairUrl: { type: 'string' },
    authorisationExpiresAt: { type: ['string', 'null'] },
    renewalDue: { type: 'boolean' }
  }
} as const

/** `?renew=1`: a signed-in owner's TV asks for a code to renew the box's authorisation with. */
const renewQuerySchema = { type: 'object', properties: { renew: { type: 'string', enum: ['1'] } } } as const

/** The authority a pairing message must name: the box as the signer's browser reached it. */
export function requestDomain(request: FastifyRequest): string {
  const host = request.headers.host
  if (host === undefined || !/^[A-Za-z0-9.\-:[\]]{1,255}$/.test(host))
    throw new SeedError('SEED_BAD_HOST_HEADER', 'the request has no usable Host header')
  return host
}

/** The page (ui/pair.js, served at /pair) a phone opens to sign `code`, on the box's address the request reached. */
function pairUrl(request: FastifyRequest, code: string): string {
  return `http://${phoneAuthority(requestDomain(request), request.socket.localAddress)}/pair?code=${code}`
}

/** Runs tasks one at a time: a code is granted once, and unpairing never interleaves with a pairing. */
function serialiser(): <T>(task: () => Promise<T>) => Promise<T> {
  let last: Promise<unknown> = Promise.resolve()
  return task => {
    const run = last.then(task, task)
    last = run.catch(() => {})
    return run
  }
}

export interface PairingRoutesOptions {
  identity: DeviceIdentity
  store: PairingStore
  sessions: OwnerSessions
  chainId: number
  provider: Provider
  onPaired(owner: string): Promise<void>
  /** The owner renewed the box's authorisation: films that failed for want of it try again now. */
  onRenewed(): Promise<void>
  /** Stops following `owner` and erases what the box holds for them; the pairing itself is cleared after. */
  onUnpaired(owner: string): Promise<void>
  /** The codes (a clock or lifetime of its own in tests). */
  claims?: PairingClaims
}

/** What every step's routes share: the codes, the limit on attempts, and the one-at-a-time queue. */
interface PairingContext extends PairingRoutesOptions {
  claims: PairingClaims
  serial: <T>(task: () => Promise<T>) => Promise<T>
  attemptLimit: onRequestHookHandler
}

/**
 * Pairing (DESIGN decision 4): the TV shows a code; the owner signs an EIP-4361 message naming this
 * device and the code; the box verifies it (EIP-1271 too) and keeps the signed authorisation. The
 * same signature, by the owner of a paired box, signs a further browser in. The device that sent the
 * signature is signed in at once; the TV whose code it was, at its next poll. Unpairing signs every
 * browser out and lets the box forget the owner (`onUnpaired`), ready to pair again.
 */
export async function pairingRoutes(app: FastifyInstance, opts: PairingRoutesOptions): Promise<void> {
  // In this plugin's scope only; the TV's status poll (GET /api/pairing) is not limited: it makes
  // no attempt, and each address holds a bounded number of codes.
  await app.register(fastifyRateLimit, { global: false })
  const attemptLimit = app.rateLimit({
    max: PAIRING_ATTEMPTS_PER_MINUTE,
    timeWindow: 60_000,
    errorResponseBuilder: (_request, context) =>
      new SeedError(
        'SEED_RATE_LIMITED',
        `too many pairing attempts from this address (${context.max} a minute): wait ${context.after}, then use the code the TV shows`
      )
  })
  const context: PairingContext = { ...opts, claims: opts.claims ?? new PairingClaims(), serial: serialiser(), attemptLimit }
  codeRoutes(app, context)
  messageRoute(app, context)
  signatureRoute(app, context)
  unpairRoute(app, context)
}

/** Step 1, on the TV: its pairing state, and while it is not signed in its code (also as a QR code) to sign. */
function codeRoutes(app: FastifyInstance, opts: PairingContext): void {
  const { claims } = opts
  const getSchema = { querystring: renewQuerySchema, response: { 200: pairingStateSchema } }
  app.get<{ Querystring: { renew?: '1' } }>('/api/pairing', { schema: getSchema }, async (request, reply): Promise<PairingState> => {
    reply.header('cache-control', 'no-store')
    const owner = (await opts.store.owner()) ?? null
    const paired = owner !== null
    let signedIn: PairingState | undefined
    if (await isSignedIn(opts.sessions, request)) {
      signedIn = { paired, owner, signedIn: true, ...(await renewalState(opts.store)) }
      // the owner's TV renews with a code of its own (`?renew=1`), signed like any other
      if (request.query.renew !== '1') return signedIn
    }
    if (signedIn === undefined && claims.redeem(request.cookies[CLAIM_COOKIE])) {
      reply.clearCookie(CLAIM_COOKIE, { path: '/' })
      await reply.startOwnerSession()
      return { paired, owner, signedIn: true, ...(await renewalState(opts.store)) }
    }
    const claim = claims.current(request.cookies[CLAIM_COOKIE], request.ip)
    reply.setCookie(CLAIM_COOKIE, claim.token, { path: '/', httpOnly: true, sameSite: 'strict' })
    return {
      // the owner's wallet is for the owner's screens
      ...(signedIn ?? { paired, owner: null, signedIn: false }),
      code: claim.code,
      expiresAt: claim.expiresAt.toISOString(),
      pairUrl: pairUrl(request, claim.code)
    }
  })

  app.get<{ Querystring: { code?: string } }>(
    '/api/pairing/qr.svg',
    {
      schema: {
        querystring: { type: 'object', additionalProperties: false, properties: { code: { type: 'string', pattern: CODE_PATTERN } } },
        response: { 200: { type: 'string' } }
      }
    },
    async (request, reply) => {
      const code = request.query.code ?? claims.peek(request.cookies[CLAIM_COOKIE])?.code
      if (code === undefined)
        throw new SeedError('SEED_NO_PAIRING_CODE', 'this browser has no pairing code: ask GET /api/pairing for one, or name the code')
      // loaded on the first QR code asked for: an idle box need not hold qrcode and pngjs (docs/benchmarks.md)
      const { default: QRCode } = await import('qrcode')
      const svg = await QRCode.toString(pairUrl(request, code), { type: 'svg', errorCorrectionLevel: 'M', margin: 4 })
      return await reply.type('image/svg+xml').header('cache-control', 'no-store').send(svg)
    }
  )
}

/** Step 2, on the phone: the EIP-4361 message for the owner's wallet to sign, naming this device and the code. */
function messageRoute(app: FastifyInstance, opts: PairingContext): void {
  const { claims, attemptLimit } = opts
  app.get<{ Querystring: { address: string; code: string } }>(
    '/api/pairing/message',
    {
      onRequest: attemptLimit,
      schema: {
        querystring: {
          type: 'object',
          required: ['address', 'code'],
          additionalProperties: false,
          properties: { address: { type: 'string', pattern: '^0x[0-9a-fA-F]{40}$' }, code: { type: 'string', pattern: CODE_PATTERN } }
        },
        response: { 200: { type: 'object', required: ['message'], properties: { message: { type: 'string' } } } }
      }
    },
    async request => {
      if (!isAddress(request.query.address)) throw new SeedError('SEED_BAD_ADDRESS', 'not an Ethereum address')
      if (claims.find(request.query.code) === undefined) throw codeRefused()
      return {
        message: buildPairingMessage({
          domain: requestDomain(request),
          owner: getAddress(request.query.address),
          chainId: opts.chainId,
          nonce: request.query.code,
          deviceId: opts.identity.deviceId,
          x25519PublicKey: opts.identity.x25519PublicKey
        })
      }
    }
  )
}

/** Step 3: the signed message pairs the box, or signs the owner in again and renews the authorisation. */
function signatureRoute(app: FastifyInstance, opts: PairingContext): void {
  const { claims, serial, attemptLimit } = opts
  app.post<{ Body: OwnerAuthorisation }>(
    '/api/pairing',
    {
      onRequest: attemptLimit,
      schema: {
        body: signedMessageSchema,
        response: { '2xx': pairingStateSchema }
      }
    },
    async (request, reply) =>
      await serial(async () => {
        const pairedOwner = await opts.store.owner()
        const nonce = /\nNonce: ([A-Za-z0-9]+)\n/.exec(request.body.message)?.[1] ?? ''
        const claim = claims.find(nonce)
        if (claim === undefined) throw codeRefused()
        let owner: string
        try {
          ;({ owner } = await verifyOwnerAuthorisation(
            request.body,
            {
              deviceId: opts.identity.deviceId,
              x25519PublicKey: opts.identity.x25519PublicKey,
              chainId: opts.chainId,
              nonce,
              domain: requestDomain(request)
            },
            opts.provider
          ))
        } catch (err) {
          if (!(err instanceof AuthorisationError)) throw err
          claims.failed(claim)
          throw new SeedError('SEED_AUTHORISATION_REFUSED', err.message)
        }
        if (pairedOwner !== undefined && pairedOwner !== owner) {
          throw new SeedError('SEED_PAIRED_ELSEWHERE', 'this Seed One is paired with another wallet; its owner must unpair it first')
        }
        claims.grant(claim)
        if (pairedOwner === undefined) {
          await opts.store.save({ ...request.body, owner, pairedAt: new Date().toISOString() })
          request.log.info({ owner }, 'paired')
          await opts.onPaired(owner)
        } else {
          // each sign-in by the owner renews the box's authorisation (it ends: owner-authorisation.ts)
          await opts.store.renew(request.body)
          await opts.onRenewed()
          request.log.info({ owner }, 'owner signed in; authorisation renewed')
        }
        await reply.startOwnerSession()
        const state: PairingState = { paired: true, owner, signedIn: true }
        return await reply.code(pairedOwner === undefined ? 201 : 200).send(state)
      })
  )
}

/** Unpairing: every browser signed out, what the box holds for the owner erased, the pairing cleared last. */
function unpairRoute(app: FastifyInstance, opts: PairingContext): void {
  const { claims, serial } = opts
  app.delete(
    '/api/pairing',
    { onRequest: app.requireOwner, schema: { response: { 200: pairingStateSchema } } },
    async (request, reply) =>
      await serial(async (): Promise<PairingState> => {
        const owner = await opts.store.owner()
        await opts.sessions.revokeAll()
        claims.clear()
        // The pairing is cleared last: an unpairing cut short by a crash leaves a paired box that can be unpaired again.
        if (owner !== undefined) await opts.onUnpaired(owner)
        await opts.store.clear()
        reply.endOwnerSession()
        request.log.info({ owner }, 'unpaired')
        return { paired: false, owner: null, signedIn: false }
      })
  )
}

/** When the kept authorisation ends, and whether it is time to renew it (RENEWAL_WINDOW_MS before, or it never ends). */
async function renewalState(store: PairingStore): Promise<Pick<PairingState, 'authorisationExpiresAt' | 'renewalDue'>> {
  const kept = await store.authorisation()
  if (kept === undefined) return {}
  const { expiresAt } = authorisationTimes(kept)
  return {
    authorisationExpiresAt: expiresAt?.toISOString() ?? null,
    renewalDue: expiresAt === undefined || expiresAt.getTime() - Date.now() < RENEWAL_WINDOW_MS
  }
}

function codeRefused(): SeedError {
  return new SeedError('SEED_PAIRING_CODE_REFUSED', 'the pairing code is wrong, used or expired: use the code the TV shows now')
}
