import { SiweMessage } from 'siwe'
import { getAddress, type Provider } from 'ethers'

/**
 * The owner's EIP-4361 (Sign-In with Ethereum) authorisation of one device (DESIGN decision 4).
 * The message names the device's peer id and X25519 key as resources, so it authorises exactly
 * that device to receive the owner's film keys; the box keeps it and shows it to custodians.
 */
export interface OwnerAuthorisation {
  message: string
  signature: string
}

export class AuthorisationError extends Error {
  override name = 'AuthorisationError'
}

const STATEMENT = 'Authorise this Seed One to receive the keys of films this wallet owns.'

export function deviceResources(deviceId: string, x25519PublicKey: Uint8Array): string[] {
  return [`urn:seed-one:device:${deviceId}`, `urn:seed-one:x25519:${Buffer.from(x25519PublicKey).toString('base64url')}`]
}

export function buildPairingMessage(opts: {
  domain: string
  owner: string
  chainId: number
  nonce: string
  deviceId: string
  x25519PublicKey: Uint8Array
  issuedAt?: Date
}): string {
  return new SiweMessage({
    domain: opts.domain,
    address: getAddress(opts.owner),
    statement: STATEMENT,
    uri: `http://${opts.domain}/`,
    version: '1',
    chainId: opts.chainId,
    nonce: opts.nonce,
    issuedAt: (opts.issuedAt ?? new Date()).toISOString(),
    resources: deviceResources(opts.deviceId, opts.x25519PublicKey)
  }).prepareMessage()
}

function parse(message: string): SiweMessage {
  try {
    return new SiweMessage(message)
  } catch (err) {
    throw new AuthorisationError(`not an EIP-4361 message: ${String((err as Error).message ?? err).slice(0, 200)}`)
  }
}

/**
 * Verifies that `authorisation` is the owner's signature authorising this very device on this chain
 * (EOA signatures, and EIP-1271 contract wallets through `provider`). Returns the owner address.
 * `nonce` and `domain` are checked when given (by the box at pairing; a custodian checks neither).
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
): Promise<string> {
  const message = parse(authorisation.message)
  if (message.statement !== STATEMENT) throw new AuthorisationError('the message does not authorise a Seed One device')
  if (message.chainId !== expected.chainId) {
    throw new AuthorisationError(`the authorisation is for chain ${message.chainId}, this network is chain ${expected.chainId}`)
  }
  const resources = message.resources ?? []
  for (const resource of deviceResources(expected.deviceId, expected.x25519PublicKey)) {
    if (!resources.includes(resource)) throw new AuthorisationError('the authorisation names another device')
  }
  const result = await message.verify(
    {
      signature: authorisation.signature,
      ...(expected.nonce !== undefined ? { nonce: expected.nonce } : {}),
      ...(expected.domain !== undefined ? { domain: expected.domain } : {})
    },
    { provider: provider as never, suppressExceptions: true }
  )
  if (!result.success) {
    throw new AuthorisationError(`the owner's signature does not verify: ${result.error?.type ?? 'unknown reason'}`)
  }
  return getAddress(message.address)
}
