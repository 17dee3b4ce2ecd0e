import type { DeviceIdentity } from '../identity/device-identity.ts'
import { signPayload } from '../identity/device-signature.ts'
import {
  KEY_RELEASE_PATH,
  type FilmKeyRequest,
  type FilmKeyRequestBody,
  type FilmKeyResponse,
  type OwnerAuthorisation
} from '../wire/custodian-protocol.ts'
import { HttpError } from '../lib/http-error.ts'
import { peerOrigin } from '../lib/peer-url.ts'

export class KeyRequestError extends HttpError {
  override name = 'KeyRequestError'
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
    throw new KeyRequestError(502, `the film's custodian URL is refused: ${(err as Error).message}`)
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
    throw new KeyRequestError(503, `the custodian at ${opts.custodianUrl} cannot be reached: ${cause?.message ?? (err as Error).message}`)
  }
  const answer = (await response.json().catch(() => ({}))) as Partial<FilmKeyResponse> & { message?: string }
  if (!response.ok || answer.wrappedKey === undefined) {
    throw new KeyRequestError(
      response.status,
      `the custodian refused the key of film ${opts.tokenId}: ${answer.message ?? response.statusText}`
    )
  }
  return answer as FilmKeyResponse
}
