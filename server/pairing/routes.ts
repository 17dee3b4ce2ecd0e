import type { FastifyInstance, FastifyRequest } from 'fastify'
import { getAddress, isAddress, type Provider } from 'ethers'
import type { DeviceIdentity } from '../identity/device-identity.ts'
import { HttpError } from '../http-error.ts'
import { AuthorisationError, buildPairingMessage, verifyOwnerAuthorisation, type OwnerAuthorisation } from './owner-authorisation.ts'
import { PairingCode } from './pairing-code.ts'
import type { PairingStore } from './pairing-store.ts'

/** The authority a pairing message must name: the box as the signer's browser reached it. */
function requestDomain(request: FastifyRequest): string {
  const host = request.headers.host
  if (host === undefined || !/^[A-Za-z0-9.\-:[\]]{1,255}$/.test(host)) throw new HttpError(400, 'the request has no usable Host header')
  return host
}

/**
 * Pairing (DESIGN decision 4): the TV shows a code; the owner signs an EIP-4361 message naming this
 * device and the code; the box verifies it (EIP-1271 too) and keeps the signed authorisation.
 */
export async function pairingRoutes(
  app: FastifyInstance,
  opts: {
    identity: DeviceIdentity
    store: PairingStore
    chainId: number
    provider: Provider
    onPaired(owner: string): Promise<void>
  }
): Promise<void> {
  const code = new PairingCode()

  app.get('/api/pairing', async () => {
    const owner = await opts.store.owner()
    if (owner !== undefined) return { paired: true, owner }
    const { code: current, expiresAt } = code.current()
    return { paired: false, code: current, expiresAt: expiresAt.toISOString() }
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
      if ((await opts.store.owner()) !== undefined) throw new HttpError(409, 'this Seed One is already paired; unpair it first')
      const nonce = /\nNonce: ([A-Za-z0-9]+)\n/.exec(request.body.message)?.[1] ?? ''
      if (!code.check(nonce)) throw new HttpError(403, 'the pairing code is wrong or has expired: use the code on the TV now')
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
        code.failed()
        throw new HttpError(401, err.message)
      }
      await opts.store.save({ ...request.body, owner, pairedAt: new Date().toISOString() })
      code.renew()
      request.log.info({ owner }, 'paired')
      await opts.onPaired(owner)
      return await reply.code(201).send({ paired: true, owner })
    }
  )
}
