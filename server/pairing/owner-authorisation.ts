import { createRequire } from 'node:module'
import type { SiweMessage } from 'siwe'
import type { Provider } from 'ethers'
import { getAddress } from '../lib/ethers.ts'
import type { OwnerAuthorisation } from '../wire/custodian-protocol.ts'

/** What a verified authorisation says. */
export interface VerifiedAuthorisation {
  owner: string
  issuedAt: Date
  expiresAt: Date
}

/** A body carrying an EIP-4361 message and the owner's signature of it (an authorisation or a revocation). */
export const signedMessageSchema = {
  type: 'object',
  required: ['message', 'signature'],
  additionalProperties: false,
  properties: { message: { type: 'string', maxLength: 4096 }, signature: { type: 'string', pattern: '^0x[0-9a-fA-F]{2,4000}$' } }
} as const

let siwe: typeof import('siwe') | undefined

/**
 * siwe (with its grammar parser, apg-js: ~0.3 MB of source) is loaded when a message is first built
 * or read, not when the daemon starts: a box not yet paired never does either (docs/benchmarks.md).
 * It shares the daemon's ethers (server/lib/ethers.ts).
 */
function siweMessage(from: ConstructorParameters<typeof SiweMessage>[0]): SiweMessage {
  siwe ??= createRequire(import.meta.url)('siwe') as typeof import('siwe')
  return new siwe.SiweMessage(from)
}

export class AuthorisationError extends Error {
  override name = 'AuthorisationError'
}

const STATEMENT = 'Authorise this Seed One to receive the keys of films this wallet owns.'

/**
 * How long a pairing authorises the box: 30 days, long enough that renewing (the owner scans the TV's
 * code again) is a monthly chore at most, short enough that a resold box or a copied data directory
 * stops receiving the keys of films bought later within a month. Custodians refuse a longer one.
 */
export const AUTHORISATION_LIFETIME_MS = 30 * 24 * 60 * 60 * 1000

/** The TV asks for renewal this long before the authorisation lapses. */
export const RENEWAL_WINDOW_MS = 7 * 24 * 60 * 60 * 1000

/** How far a signer's clock may be ahead: an authorisation issued later than now plus this is refused. */
const CLOCK_SKEW_MS = 5 * 60 * 1000

const RENEW = 'renew the pairing: the owner signs the code the TV shows again'

export function deviceResources(deviceId: string, x25519PublicKey: Uint8Array): string[] {
  return [`urn:seed-one:device:${deviceId}`, `urn:seed-one:x25519:${Buffer.from(x25519PublicKey).toString('base64url')}`]
}

/**
 * An EIP-4361 message from `owner` to the box at `domain` (pairings and revocations alike): what differs
 * between them is the statement, the nonce, the resources and whether it ends.
 */
export function buildSiweMessage(opts: {
  domain: string
  owner: string
  chainId: number
  statement: string
  nonce: string
  issuedAt: Date
  expiresAt?: Date
  resources: string[]
}): string {
  return siweMessage({
    domain: opts.domain,
    address: getAddress(opts.owner),
    statement: opts.statement,
    uri: `http://${opts.domain}/`,
    version: '1',
    chainId: opts.chainId,
    nonce: opts.nonce,
    issuedAt: opts.issuedAt.toISOString(),
    ...(opts.expiresAt === undefined ? {} : { expirationTime: opts.expiresAt.toISOString() }),
    resources: opts.resources
  }).prepareMessage()
}

export function buildPairingMessage(opts: {
  domain: string
  owner: string
  chainId: number
  nonce: string
  deviceId: string
  x25519PublicKey: Uint8Array
  issuedAt?: Date
  /** Default: AUTHORISATION_LIFETIME_MS after issuedAt. */
  expiresAt?: Date
}): string {
  const issuedAt = opts.issuedAt ?? new Date()
  return buildSiweMessage({
    ...opts,
    statement: STATEMENT,
    issuedAt,
    expiresAt: opts.expiresAt ?? new Date(issuedAt.getTime() + AUTHORISATION_LIFETIME_MS),
    resources: deviceResources(opts.deviceId, opts.x25519PublicKey)
  })
}

export function parseSiwe(message: string): SiweMessage {
  try {
    return siweMessage(message)
  } catch (err) {
    throw new AuthorisationError(`not an EIP-4361 message: ${String((err as Error).message ?? err).slice(0, 200)}`)
  }
}

/**
 * When a kept authorisation was issued and ends, read without verifying it (the box shows its own);
 * `expiresAt` is undefined for one signed before authorisations ended.
 */
export function authorisationTimes(authorisation: OwnerAuthorisation): { issuedAt: Date; expiresAt?: Date } {
  const message = parseSiwe(authorisation.message)
  return {
    issuedAt: new Date(message.issuedAt ?? 0),
    ...(message.expirationTime !== undefined ? { expiresAt: new Date(message.expirationTime) } : {})
  }
}

/**
 * Refuses an authorisation that has lapsed, never ends (signed before authorisations ended), or
 * claims a longer life than AUTHORISATION_LIFETIME_MS: each must be renewed by pairing again.
 */
export function checkAuthorisationTimes(authorisation: OwnerAuthorisation, now = Date.now()): { issuedAt: Date; expiresAt: Date } {
  const { issuedAt, expiresAt } = authorisationTimes(authorisation)
  if (expiresAt === undefined || Number.isNaN(expiresAt.getTime())) {
    throw new AuthorisationError(`the owner's authorisation of this device has no expiry (signed by an older release): ${RENEW}`)
  }
  if (Number.isNaN(issuedAt.getTime()) || issuedAt.getTime() > now + CLOCK_SKEW_MS) {
    throw new AuthorisationError("the owner's authorisation is not yet valid: its issue time is in the future")
  }
  if (expiresAt.getTime() - issuedAt.getTime() > AUTHORISATION_LIFETIME_MS) {
    throw new AuthorisationError(
      `the owner's authorisation claims a life longer than ${AUTHORISATION_LIFETIME_MS / 86_400_000} days: ${RENEW}`
    )
  }
  if (expiresAt.getTime() <= now) {
    throw new AuthorisationError(`the owner's authorisation of this device expired at ${expiresAt.toISOString()}: ${RENEW}`)
  }
  return { issuedAt, expiresAt }
}

/** Checks a parsed SIWE message's signature (EOA, and EIP-1271 contract wallets through `provider`). */
export async function verifySiweSignature(
  message: SiweMessage,
  signature: string,
  provider: Provider,
  expected: { nonce?: string; domain?: string } = {}
): Promise<void> {
  const result = await message.verify(
    {
      signature,
      ...(expected.nonce !== undefined ? { nonce: expected.nonce } : {}),
      ...(expected.domain !== undefined ? { domain: expected.domain } : {})
    },
    { provider: provider as never, suppressExceptions: true }
  )
  if (!result.success) {
    throw new AuthorisationError(
      `the owner's signature does not verify: ${result.error?.type ?? 'it is not a signature of the address the message names'}`
    )
  }
}

/**
 * Verifies that `authorisation` is the owner's signature authorising this very device on this chain,
 * and that it has not lapsed (checkAuthorisationTimes). `nonce` and `domain` are checked when given
 * (by the box at pairing; a custodian checks neither).
 */
export async function verifyOwnerAuthorisation(
  authorisation: OwnerAuthorisation,
  expected: {
    deviceId: string
    x25519PublicKey: Uint8Array
    chainId: number
    nonce?: string
    domain?: string
  },
  provider: Provider
): Promise<VerifiedAuthorisation> {
  const message = parseSiwe(authorisation.message)
  if (message.statement !== STATEMENT) throw new AuthorisationError('the message does not authorise a Seed One device')
  if (message.chainId !== expected.chainId) {
    throw new AuthorisationError(`the authorisation is for chain ${message.chainId}, this network is chain ${expected.chainId}`)
  }
  const resources = message.resources ?? []
  for (const resource of deviceResources(expected.deviceId, expected.x25519PublicKey)) {
    if (!resources.includes(resource)) throw new AuthorisationError('the authorisation names another device')
  }
  const times = checkAuthorisationTimes(authorisation)
  await verifySiweSignature(message, authorisation.signature, provider, expected)
  return { owner: getAddress(message.address), ...times }
}
