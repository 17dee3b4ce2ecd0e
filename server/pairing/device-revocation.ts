import { randomBytes } from 'node:crypto'
import { SeedError } from '../lib/errors.ts'
import type { Provider } from 'ethers'
import { getAddress } from '../lib/ethers.ts'
import { AuthorisationError, buildSiweMessage, parseSiwe, verifySiweSignature } from './owner-authorisation.ts'
import type { OwnerAuthorisation } from '../wire/custodian-protocol.ts'

/**
 * The owner's signed revocation of one device: custodians refuse that device every key asked under
 * an authorisation the owner signed before the revocation (a lost or resold box, a copied data
 * directory). An EIP-4361 message like the pairing's, so contract wallets (EIP-1271) can sign it too.
 */
export type SignedRevocation = OwnerAuthorisation

export interface Revocation {
  owner: string
  deviceId: string
  revokedAt: Date
}

const STATEMENT = 'Revoke this Seed One device: no film keys for it under authorisations signed before now.'
const DEVICE_PREFIX = 'urn:seed-one:device:'
const CLOCK_SKEW_MS = 5 * 60 * 1000

export function buildRevocationMessage(opts: {
  domain: string
  owner: string
  chainId: number
  deviceId: string
  issuedAt?: Date
}): string {
  return buildSiweMessage({
    ...opts,
    statement: STATEMENT,
    nonce: randomBytes(12).toString('hex'),
    issuedAt: opts.issuedAt ?? new Date(),
    resources: [`${DEVICE_PREFIX}${opts.deviceId}`]
  })
}

/** Verifies the owner's signature on a revocation for this chain; its issue time is when it takes effect. */
export async function verifyRevocation(signed: SignedRevocation, chainId: number, provider: Provider): Promise<Revocation> {
  const message = parseSiwe(signed.message)
  if (message.statement !== STATEMENT) throw new AuthorisationError('the message is not a Seed One device revocation')
  if (message.chainId !== chainId)
    throw new AuthorisationError(`the revocation is for chain ${message.chainId}, this network is chain ${chainId}`)
  const devices = (message.resources ?? []).filter(r => r.startsWith(DEVICE_PREFIX))
  if (devices.length !== 1) throw new AuthorisationError('a revocation names exactly one device')
  const revokedAt = new Date(message.issuedAt ?? Number.NaN)
  // a revocation dated ahead would also refuse the authorisations the owner signs until then
  if (Number.isNaN(revokedAt.getTime()) || revokedAt.getTime() > Date.now() + CLOCK_SKEW_MS) {
    throw new AuthorisationError('the revocation is dated in the future: check the clock of the device that made it')
  }
  await verifySiweSignature(message, signed.signature, provider)
  return { owner: getAddress(message.address), deviceId: (devices[0] as string).slice(DEVICE_PREFIX.length), revokedAt }
}

/** verifyRevocation for a route: a revocation that does not verify is the sender's mistake (400). */
export async function revocationFromRequest(signed: SignedRevocation, chainId: number, provider: Provider): Promise<Revocation> {
  try {
    return await verifyRevocation(signed, chainId, provider)
  } catch (err) {
    if (err instanceof AuthorisationError) throw new SeedError('SEED_BAD_REVOCATION', err.message)
    throw err
  }
}
