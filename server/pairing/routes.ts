import type { FastifyInstance, FastifyRequest } from 'fastify'
import { getAddress, isAddress, type Provider } from 'ethers'
import type { DeviceIdentity } from '../identity/device-identity.ts'
import { HttpError } from '../http-error.ts'
import { AuthorisationError, buildPairingMessage, verifyOwnerAuthorisation, type OwnerAuthorisation } from './owner-authorisation.ts'
import { PairingClaims } from './pairing-code.ts'
import type { PairingStore } from './pairing-store.ts'
import { isSignedIn, type OwnerSessions } from './owner-session.ts'

const CLAIM_COOKIE = 'seedone_claim'

/** The authority a pairing message must name: the box as the signer's browser reached it. */
function requestDomain(request: FastifyRequest): string {
  const host = request.headers.host
  if (host === undefined || !/^[A-Za-z0-9.\-:[\]]{1,255}$/.test(host)) throw new HttpError(400, 'the request has no usable Host header')
  return host
}

/**
 * Pairing (DESIGN decision 4): the TV shows a code; the owner signs an EIP-4361 message naming this
 * device and the code; the box verifies it (EIP-1271 too) and keeps the signed authorisation. The
 * same signature, by the owner of a paired box, signs a further browser in. The device that sent the
 * signature is signed in at once; the TV whose code it was, at its next poll.
 */
export async function pairingRoutes(
  app: FastifyInstance,
  opts: {
    identity: DeviceIdentity
    store: PairingStore
    sessions: OwnerSessions
    chainId: number
    provider: Provider
    onPaired(owner: string): Promise<void>
  }
): Promise<void> {
  const claims = new PairingClaims()

  app.get('/api/pairing', async (request, reply) => {
    const owner = (await opts.store.owner()) ?? null
    const paired = owner !== null
    if (await isSignedIn(opts.sessions, request)) return { paired, owner, signedIn: true }
    if (claims.redeem(request.cookies[CLAIM_COOKIE])) {
      reply.clearCookie(CLAIM_COOKIE, { path: '/' })
      await reply.startOwnerSession()
      return { paired, owner, signedIn: true }
    }
    const claim = claims.current(request.cookies[CLAIM_COOKIE])
    reply.setCookie(CLAIM_COOKIE, claim.token, { path: '/', httpOnly: true, sameSite: 'strict' })
    const pairUrl = `http://${requestDomain(request)}/pair?code=${claim.code}`
    return { paired, owner, signedIn: false, code: claim.code, expiresAt: claim.expiresAt.toISOString(), pairUrl }
  })

  app.get<{ Querystring: { address: string; code: string } }>(
    '/api/pairing/message',
    {
      schema: {
        querystring: {
          type: 'object',
          required: ['address', 'code'],
          properties: { address: { type: 'string', pattern: '^0x[0-9a-fA-F]{40}$' }, code: { type: 'string', pattern: '^[A-Z0-9]{8}$' } }
        }
      }
    },
    async request => {
      if (!isAddress(request.query.address)) throw new HttpError(400, 'not an Ethereum address')
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

  app.post<{ Body: OwnerAuthorisation }>(
    '/api/pairing',
    {
      schema: {
        body: {
          type: 'object',
          required: ['message', 'signature'],
          additionalProperties: false,
          properties: { message: { type: 'string', maxLength: 4096 }, signature: { type: 'string', pattern: '^0x[0-9a-fA-F]{2,4000}$' } }
        }
      }
    },
    async (request, reply) => {
      const pairedOwner = await opts.store.owner()
      const nonce = /\nNonce: ([A-Za-z0-9]+)\n/.exec(request.body.message)?.[1] ?? ''
      const claim = claims.find(nonce)
      if (claim === undefined) throw new HttpError(403, 'the pairing code is wrong or has expired: use the code on the TV now')
      let owner: string
      try {
        owner = await verifyOwnerAuthorisation(
          request.body,
          {
            deviceId: opts.identity.deviceId,
            x25519PublicKey: opts.identity.x25519PublicKey,
            chainId: opts.chainId,
            nonce,
            domain: requestDomain(request)
          },
          opts.provider
        )
      } catch (err) {
        if (!(err instanceof AuthorisationError)) throw err
        claims.failed(claim)
        throw new HttpError(401, err.message)
      }
      if (pairedOwner !== undefined && pairedOwner !== owner) {
        throw new HttpError(409, 'this Seed One is paired with another wallet; its owner must unpair it first')
      }
      claims.grant(claim)
      if (pairedOwner === undefined) {
        await opts.store.save({ ...request.body, owner, pairedAt: new Date().toISOString() })
        request.log.info({ owner }, 'paired')
        await opts.onPaired(owner)
      } else {
        request.log.info({ owner }, 'owner signed in')
      }
      await reply.startOwnerSession()
      return await reply.code(pairedOwner === undefined ? 201 : 200).send({ paired: true, owner, signedIn: true })
    }
  )
}
