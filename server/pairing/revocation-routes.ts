import type { FastifyInstance } from 'fastify'
import fastifyRateLimit from '@fastify/rate-limit'
import type { Provider } from 'ethers'
import { getAddress, isAddress } from '../lib/ethers.ts'
import { SeedError } from '../lib/errors.ts'
import { signedMessageSchema } from './owner-authorisation.ts'
import { buildRevocationMessage, revocationFromRequest, type SignedRevocation } from './device-revocation.ts'
import { REVOCATIONS_PATH } from '../wire/custodian-protocol.ts'
import { requestDomain } from './routes.ts'

/** What became of a revocation at one custodian. */
export interface RevocationDelivery {
  custodianUrl: string
  delivered: boolean
  /** Why it was not, to show the owner. */
  error?: string
}

/** The answer of POST /api/pairing/revocations: the revocation, and whether each custodian has it. */
export interface RevocationRelayed {
  deviceId: string
  revokedAt: string
  deliveries: RevocationDelivery[]
}

const RELAY_TIMEOUT_MS = 10_000

/** Sends the owner's signed revocation to one custodian. */
async function deliver(custodianUrl: string, signed: SignedRevocation): Promise<RevocationDelivery> {
  try {
    const response = await fetch(new URL(REVOCATIONS_PATH, custodianUrl), {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ message: signed.message, signature: signed.signature }),
      redirect: 'error',
      signal: AbortSignal.timeout(RELAY_TIMEOUT_MS)
    })
    if (response.ok) return { custodianUrl, delivered: true }
    const answer = (await response.json().catch(() => ({}))) as { message?: string }
    return { custodianUrl, delivered: false, error: `${response.status}: ${answer.message ?? response.statusText}` }
  } catch (err) {
    return { custodianUrl, delivered: false, error: (err as Error).message }
  }
}

const revocationMessageSchema = {
  querystring: {
    type: 'object',
    required: ['address', 'device'],
    additionalProperties: false,
    properties: {
      address: { type: 'string', pattern: '^0x[0-9a-fA-F]{40}$' },
      device: { type: 'string', pattern: '^[1-9A-HJ-NP-Za-km-z]{40,60}$' }
    }
  },
  response: { 200: { type: 'object', required: ['message'], properties: { message: { type: 'string' } } } }
} as const

/** The answer to a relayed revocation: one delivery per custodian, delivered or with its error. */
const revocationRelayedSchema = {
  type: 'object',
  required: ['deviceId', 'revokedAt', 'deliveries'],
  additionalProperties: false,
  properties: {
    deviceId: { type: 'string' },
    revokedAt: { type: 'string' },
    deliveries: {
      type: 'array',
      items: {
        type: 'object',
        required: ['custodianUrl', 'delivered'],
        additionalProperties: false,
        properties: { custodianUrl: { type: 'string' }, delivered: { type: 'boolean' }, error: { type: 'string' } }
      }
    }
  }
} as const

/**
 * Device revocation from the owner's phone (ui/pair.js): the box builds the message naming the
 * device, the owner's wallet signs it, and the box relays it to the custodians of the owner's films
 * (named in their metadata), which then refuse that device every key under an older authorisation.
 */
export async function revocationRelayRoutes(
  app: FastifyInstance,
  opts: {
    chainId: number
    provider: Provider
    owner(): Promise<string | undefined>
    /** The custodians of the films the owner holds or held on this box. */
    custodians(): Promise<string[]>
  }
): Promise<void> {
  await app.register(fastifyRateLimit, { global: false })
  const limit = app.rateLimit({ max: 10, timeWindow: 60_000 })

  app.get<{ Querystring: { address: string; device: string } }>(
    '/api/pairing/revocation-message',
    {
      onRequest: limit,
      schema: revocationMessageSchema
    },
    async request => {
      if (!isAddress(request.query.address)) throw new SeedError('SEED_BAD_ADDRESS', 'not an Ethereum address')
      const domain = requestDomain(request)
      return {
        message: buildRevocationMessage({ domain, owner: request.query.address, chainId: opts.chainId, deviceId: request.query.device })
      }
    }
  )

  app.post<{ Body: SignedRevocation }>(
    '/api/pairing/revocations',
    {
      onRequest: limit,
      schema: { body: signedMessageSchema, response: { 200: revocationRelayedSchema } }
    },
    async (request): Promise<RevocationRelayed> => {
      const revocation = await revocationFromRequest(request.body, opts.chainId, opts.provider)
      const owner = await opts.owner()
      if (owner === undefined || getAddress(owner) !== revocation.owner) {
        throw new SeedError(
          'SEED_NOT_THE_OWNER',
          'this Seed One relays revocations of its own owner only: sign with the wallet it is paired with'
        )
      }
      const deliveries = await Promise.all((await opts.custodians()).map(async url => await deliver(url, request.body)))
      request.log.info({ owner, deviceId: revocation.deviceId, custodians: deliveries.length }, 'device revocation relayed')
      return { deviceId: revocation.deviceId, revokedAt: revocation.revokedAt.toISOString(), deliveries }
    }
  )
}
