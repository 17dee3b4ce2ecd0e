import type { FastifyInstance } from 'fastify'
import type { Provider } from 'ethers'
import { signedMessageSchema } from '../pairing/owner-authorisation.ts'
import { revocationFromRequest, type Revocation, type SignedRevocation } from '../pairing/device-revocation.ts'
import { REVOCATIONS_PATH } from '../wire/custodian-protocol.ts'
import { section, type StateDb } from '../storage/state-db.ts'

declare module '../storage/state-db.ts' {
  interface StateSchema {
    /** Keyed by `owner|deviceId`, the owner in lower case. */
    revocations: { [ownerAndDevice: string]: StoredRevocation }
  }
}

/** The owners' device revocations a custodian honours, the latest per owner and device, with the signed message. */
export interface RevocationStore {
  add(revocation: Revocation, signed: SignedRevocation): Promise<void>
  /** When `owner` last revoked `deviceId`, if ever. */
  revokedAt(owner: string, deviceId: string): Promise<Date | undefined>
}

interface StoredRevocation extends SignedRevocation {
  revokedAt: string
}

export function createRevocationStore(db: StateDb): RevocationStore {
  const revocations = section(db, 'revocations')
  const key = (owner: string, deviceId: string): string => `${owner.toLowerCase()}|${deviceId}`
  return {
    async add(revocation, signed) {
      const stored = await revocations.get(key(revocation.owner, revocation.deviceId))
      if (stored !== undefined && Date.parse(stored.revokedAt) >= revocation.revokedAt.getTime()) return
      await revocations.put(key(revocation.owner, revocation.deviceId), { ...signed, revokedAt: revocation.revokedAt.toISOString() })
    },
    async revokedAt(owner, deviceId) {
      const stored = await revocations.get(key(owner, deviceId))
      return stored === undefined ? undefined : new Date(stored.revokedAt)
    }
  }
}

export const revocationAnswerSchema = {
  type: 'object',
  required: ['owner', 'deviceId', 'revokedAt'],
  additionalProperties: false,
  properties: { owner: { type: 'string' }, deviceId: { type: 'string' }, revokedAt: { type: 'string' } }
} as const

/**
 * `POST /api/custody/revocations`: anyone may deliver an owner's signed revocation (the owner's box
 * relays it); only the owner's signature makes it count, and it only ever refuses keys.
 */
export async function revocationRoutes(
  app: FastifyInstance,
  opts: { store: RevocationStore; chainId: number; provider: Provider }
): Promise<void> {
  app.post<{ Body: SignedRevocation }>(
    REVOCATIONS_PATH,
    { schema: { body: signedMessageSchema, response: { 200: revocationAnswerSchema } } },
    async request => {
      const revocation = await revocationFromRequest(request.body, opts.chainId, opts.provider)
      await opts.store.add(revocation, request.body)
      request.log.info({ owner: revocation.owner, deviceId: revocation.deviceId }, 'device revoked')
      return { owner: revocation.owner, deviceId: revocation.deviceId, revokedAt: revocation.revokedAt.toISOString() }
    }
  )
}
