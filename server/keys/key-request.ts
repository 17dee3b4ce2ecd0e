import type { DeviceIdentity } from '../identity/device-identity.ts'
import { signPayload } from '../identity/device-signature.ts'
import {
  KEY_RELEASE_PATH,
  type FilmKeyRequest,
  type FilmKeyRequestBody,
  type FilmKeyResponse,
  type OwnerAuthorisation
} from '../wire/custodian-protocol.ts'
import { SeedError } from '../lib/errors.ts'
import { peerOrigin } from '../lib/peer-url.ts'

/**
 * The custodian could not be asked for a key, or refused it; the message says which and why. A refusal
 * keeps what the custodian answered: its status and its code (e.g. SEED_NOT_A_HOLDER).
 */
export class KeyRequestError extends SeedError {
  override name = 'KeyRequestError'
  readonly custodianStatus: number | undefined
  readonly custodianCode: string | undefined
  constructor(message: string, custodianAnswer?: { status: number; code: string | undefined }) {
    super('SEED_KEY_REQUEST_FAILED', message)
    this.custodianStatus = custodianAnswer?.status
    this.custodianCode = custodianAnswer?.code
  }
}

/** The device's side: asks the film's custodian for its key, wrapped to this device. */
export async function requestFilmKey(opts: {
  custodianUrl: string
  identity: DeviceIdentity
  authorisation: OwnerAuthorisation
  chainId: number
  contract: string
  tokenId: string
  timeoutMs?: number
}): Promise<FilmKeyResponse> {
  const request: FilmKeyRequest = {
    purpose: 'seed-one/film-key-request/v1',
    chainId: opts.chainId,
    contract: opts.contract.toLowerCase(),
    tokenId: opts.tokenId,
    deviceId: opts.identity.deviceId,
    x25519PublicKey: Buffer.from(opts.identity.x25519PublicKey).toString('base64url'),
    issuedAt: new Date().toISOString()
  }
  // only the two fields: callers may pass a richer record (a stored pairing), and the custodian refuses unknown properties
  const authorisation: OwnerAuthorisation = { message: opts.authorisation.message, signature: opts.authorisation.signature }
  const body: FilmKeyRequestBody = { authorisation, request: await signPayload(opts.identity, request) }
  let custodian: string
  try {
    custodian = peerOrigin(opts.custodianUrl) // from the film's metadata: a box, not any route of any host
  } catch (err) {
    throw new KeyRequestError(`the film's custodian URL is refused: ${(err as Error).message}`)
  }
  let response: Response
  try {
    response = await fetch(`${custodian}${KEY_RELEASE_PATH}`, {
      method: 'POST',
      redirect: 'error',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify(body),
      signal: AbortSignal.timeout(opts.timeoutMs ?? 15_000)
    })
  } catch (err) {
    // fetch's own message is "fetch failed": the cause says why (refused, a redirect, which are not followed)
    const cause = (err as Error).cause as Error | undefined
    throw new KeyRequestError(`the custodian at ${opts.custodianUrl} cannot be reached: ${cause?.message ?? (err as Error).message}`)
  }
  const answer = (await response.json().catch(() => ({}))) as Partial<FilmKeyResponse> & { message?: string; code?: string }
  if (!response.ok || answer.wrappedKey === undefined) {
    throw new KeyRequestError(`the custodian refused the key of film ${opts.tokenId}: ${answer.message ?? response.statusText}`, {
      status: response.status,
      code: answer.code
    })
  }
  return answer as FilmKeyResponse
}
