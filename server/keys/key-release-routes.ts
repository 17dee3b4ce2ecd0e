import type { FastifyInstance } from 'fastify'
import type { Helia } from 'helia'
import { getAddress } from 'ethers'
import type { FilmTokenClient } from '../chain/film-token.ts'
import { verifyDeviceSignature } from '../identity/device-signature.ts'
import { AuthorisationError, verifyOwnerAuthorisation } from '../pairing/owner-authorisation.ts'
import { metadataBound, metadataCidFromUri, parseFilmMetadata } from '../library/film-metadata.ts'
import { readBytes } from '../storage/content.ts'
import { HttpError } from '../http-error.ts'
import type { CustodyStore } from './custody-store.ts'
import { filmKeyContext, KEY_RELEASE_PATH, type FilmKeyRequest, type FilmKeyRequestBody, type FilmKeyResponse } from './key-request.ts'
import { wrapKey } from './wrap.ts'

/** A request older (or newer) than this is refused, so a captured request cannot be replayed later. */
const REQUEST_MAX_AGE_MS = 5 * 60 * 1000

const bodySchema = {
  type: 'object',
  required: ['authorisation', 'request'],
  additionalProperties: false,
  properties: {
    authorisation: {
      type: 'object',
      required: ['message', 'signature'],
      additionalProperties: false,
      properties: { message: { type: 'string', maxLength: 4096 }, signature: { type: 'string', maxLength: 4096 } }
    },
    request: {
      type: 'object',
      required: ['payload', 'signature'],
      additionalProperties: false,
      properties: { payload: { type: 'string', maxLength: 2048 }, signature: { type: 'string', maxLength: 200 } }
    }
  }
} as const

function parseRequest(payload: string, chain: FilmTokenClient): FilmKeyRequest {
  let request: FilmKeyRequest
  try {
    request = JSON.parse(payload)
  } catch {
    throw new HttpError(400, 'the key request payload is not JSON')
  }
  if (
    request.purpose !== 'seed-one/film-key-request/v1' ||
    typeof request.tokenId !== 'string' ||
    !/^\d{1,78}$/.test(request.tokenId) ||
    typeof request.deviceId !== 'string' ||
    typeof request.x25519PublicKey !== 'string' ||
    typeof request.issuedAt !== 'string'
  ) {
    throw new HttpError(400, 'the key request payload is malformed')
  }
  if (request.chainId !== chain.chainId || String(request.contract).toLowerCase() !== String(chain.contract.target).toLowerCase()) {
    throw new HttpError(400, 'the key request is for another chain or contract')
  }
  const age = Math.abs(Date.now() - Date.parse(request.issuedAt))
  if (!(age <= REQUEST_MAX_AGE_MS)) throw new HttpError(401, 'the key request is stale or its clock is off by more than 5 minutes')
  return request
}

/**
 * The custodian's key release (DESIGN decision 5): the owner's authorisation of the device, the
 * device's own signature, and `balanceOf(owner, id) ≥ 1` on chain, then the key wrapped to the device.
 */
export async function keyReleaseRoutes(
  app: FastifyInstance,
  opts: { chain: FilmTokenClient; helia: Helia; custody: CustodyStore }
): Promise<void> {
  const { chain, helia, custody } = opts
  app.post<{ Body: FilmKeyRequestBody }>(KEY_RELEASE_PATH, { schema: { body: bodySchema } }, async (request): Promise<FilmKeyResponse> => {
    const keyRequest = parseRequest(request.body.request.payload, chain)
    if (!(await verifyDeviceSignature(keyRequest.deviceId, request.body.request))) {
      throw new HttpError(401, 'the device signature on the key request does not verify')
    }
    const x25519PublicKey = new Uint8Array(Buffer.from(keyRequest.x25519PublicKey, 'base64url'))
    if (x25519PublicKey.length !== 32) throw new HttpError(400, 'the device key-wrapping key is not a 32-byte X25519 key')
    let owner: string
    try {
      owner = await verifyOwnerAuthorisation(
        request.body.authorisation,
        { deviceId: keyRequest.deviceId, x25519PublicKey, chainId: chain.chainId },
        chain.provider
      )
    } catch (err) {
      if (err instanceof AuthorisationError) throw new HttpError(401, err.message)
      throw err
    }
    const readChain = async <T>(call: () => Promise<T>): Promise<T> =>
      await call().catch((err: Error) => {
        throw new HttpError(503, `the chain cannot be read: ${err.message}`)
      })
    const balance: bigint = await readChain(async () => await chain.contract.balanceOf(owner, keyRequest.tokenId))
    if (balance < 1n) throw new HttpError(403, `${owner} holds no token of film ${keyRequest.tokenId}`)
    const uri: string = await readChain(async () => await chain.contract.uri(keyRequest.tokenId))
    const metadata = parseFilmMetadata(
      await readBytes(helia, metadataCidFromUri(uri), {
        bound: metadataBound(`film ${keyRequest.tokenId}`),
        signal: AbortSignal.timeout(10_000)
      })
    )
    const contentKey = await custody.get(metadata.content.cid)
    if (contentKey === undefined) throw new HttpError(404, `this custodian does not hold the key of film ${keyRequest.tokenId}`)
    const context = filmKeyContext(chain.chainId, String(chain.contract.target), keyRequest.tokenId, keyRequest.deviceId)
    request.log.info({ tokenId: keyRequest.tokenId, deviceId: keyRequest.deviceId, owner }, 'film key released')
    return { wrappedKey: wrapKey(contentKey, x25519PublicKey, context), owner: getAddress(owner) }
  })
}
