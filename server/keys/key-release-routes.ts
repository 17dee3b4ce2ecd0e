import type { FastifyInstance } from 'fastify'
import { getAddress } from '../lib/ethers.ts'
import type { FilmTokenClient } from '../chain/film-token.ts'
import { readChainHead } from '../chain/chain-head.ts'
import { verifyDeviceSignature } from '../identity/device-signature.ts'
import { AuthorisationError, verifyOwnerAuthorisation } from '../pairing/owner-authorisation.ts'
import { SeedError } from '../lib/errors.ts'
import type { CustodyStore } from './custody-store.ts'
import type { PublishedFilm, PublishedFilms } from './published-films.ts'
import type { RevocationStore } from './revocations.ts'
import { createKeyReleaseLimits, type ReleaseLimits } from './release-limits.ts'
import {
  filmKeyContext,
  KEY_RELEASE_PATH,
  type FilmKeyRequest,
  type FilmKeyRequestBody,
  type FilmKeyResponse
} from '../wire/custodian-protocol.ts'
import { wrapKey } from '../sealing/wrap.ts'

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
    throw new SeedError('SEED_BAD_KEY_REQUEST', 'the key request payload is not JSON')
  }
  if (
    request.purpose !== 'seed-one/film-key-request/v1' ||
    typeof request.tokenId !== 'string' ||
    !/^\d{1,78}$/.test(request.tokenId) ||
    typeof request.deviceId !== 'string' ||
    typeof request.x25519PublicKey !== 'string' ||
    typeof request.issuedAt !== 'string'
  ) {
    throw new SeedError('SEED_BAD_KEY_REQUEST', 'the key request payload is malformed')
  }
  if (request.chainId !== chain.chainId || String(request.contract).toLowerCase() !== String(chain.contract.target).toLowerCase()) {
    throw new SeedError('SEED_BAD_KEY_REQUEST', 'the key request is for another chain or contract')
  }
  const age = Math.abs(Date.now() - Date.parse(request.issuedAt))
  if (!(age <= REQUEST_MAX_AGE_MS))
    throw new SeedError('SEED_KEY_REQUEST_STALE', 'the key request is stale or its clock is off by more than 5 minutes')
  return request
}

/** The chain as the custodian reads it: `confirmations` blocks below the head, so a purchase a reorg undoes releases nothing. */
async function confirmedBlockTag(chain: FilmTokenClient, confirmations: number): Promise<number | 'latest'> {
  if (confirmations === 0) return 'latest'
  return Math.max(0, (await readChainHead(chain.provider, chain.chainId)) - confirmations)
}

/**
 * The film behind `tokenId` as this custodian published it, or 403: only a token it registered itself
 * (never one whose metadata merely names its content), still registered on chain by the same creator
 * with the same metadata, and by a creator it serves (`served`; undefined: any it published with).
 */
async function ownFilm(
  tokenId: string,
  opts: { chain: FilmTokenClient; published: PublishedFilms; served: Set<string> | undefined; readChain: ChainReader }
): Promise<PublishedFilm> {
  const { chain } = opts
  const film = await opts.published.get(tokenId)
  if (film === undefined || (film.contract !== undefined && film.contract !== getAddress(String(chain.contract.target)))) {
    throw new SeedError(
      'SEED_FILM_NOT_PUBLISHED_HERE',
      `film ${tokenId} was not published by this custodian: it releases keys only for tokens it registered itself ` +
        "(a token that registers another film's metadata again gets no key)"
    )
  }
  // the registration is read as it stands; only the holding must have its confirmations
  const onChain = (await opts.readChain(async () => await chain.contract.film(tokenId))) as { creator: string; metadataUri: string }
  const creator = getAddress(onChain.creator)
  if ((film.creator !== undefined && film.creator !== creator) || onChain.metadataUri !== `ipfs://${film.metadataCid}`) {
    throw new SeedError('SEED_FILM_NOT_PUBLISHED_HERE', `film ${tokenId} on chain is not the film this custodian published under that id`)
  }
  if (opts.served !== undefined && !opts.served.has(creator)) {
    throw new SeedError(
      'SEED_CREATOR_NOT_SERVED',
      `film ${tokenId} is by ${creator}, a creator this custodian does not serve (--serve-creator)`
    )
  }
  return film
}

type ChainReader = <T>(call: () => Promise<T>) => Promise<T>

export interface KeyReleaseOptions {
  chain: FilmTokenClient
  custody: CustodyStore
  published: PublishedFilms
  revocations: RevocationStore
  /** The creators whose films this custodian serves; undefined: the creators it has published with. */
  servedCreators?: string[]
  /** Blocks a purchase needs on top before it counts. */
  confirmations: number
  limits: ReleaseLimits
}

/**
 * The custodian's key release (DESIGN decision 5): the owner's unexpired, unrevoked authorisation of
 * the device, the device's own signature, a film this custodian registered itself for a creator it
 * serves, and `balanceOf(owner, id) ≥ 1` at the configured confirmations; then the key wrapped to the
 * device for that token and content.
 */
export async function keyReleaseRoutes(app: FastifyInstance, opts: KeyReleaseOptions): Promise<void> {
  const { chain, custody, published, revocations } = opts
  const served = opts.servedCreators === undefined ? undefined : new Set(opts.servedCreators.map(address => getAddress(address)))
  const releaseLimit = createKeyReleaseLimits(opts.limits)
  const readChain: ChainReader = async call =>
    await call().catch((err: Error) => {
      throw new SeedError('SEED_CHAIN_UNAVAILABLE', `the chain cannot be read: ${err.message}`)
    })

  app.post<{ Body: FilmKeyRequestBody }>(
    KEY_RELEASE_PATH,
    { schema: { body: bodySchema } },
    async (request, reply): Promise<FilmKeyResponse> => {
      const keyRequest = parseRequest(request.body.request.payload, chain)
      if (!(await verifyDeviceSignature(keyRequest.deviceId, request.body.request))) {
        throw new SeedError('SEED_BAD_SIGNATURE', 'the device signature on the key request does not verify')
      }
      const x25519PublicKey = new Uint8Array(Buffer.from(keyRequest.x25519PublicKey, 'base64url'))
      if (x25519PublicKey.length !== 32)
        throw new SeedError('SEED_BAD_KEY_REQUEST', 'the device key-wrapping key is not a 32-byte X25519 key')
      let owner: string
      let issuedAt: Date
      try {
        ;({ owner, issuedAt } = await verifyOwnerAuthorisation(
          request.body.authorisation,
          { deviceId: keyRequest.deviceId, x25519PublicKey, chainId: chain.chainId },
          chain.provider
        ))
      } catch (err) {
        if (err instanceof AuthorisationError) throw new SeedError('SEED_AUTHORISATION_REFUSED', err.message)
        throw err
      }
      const revokedAt = await revocations.revokedAt(owner, keyRequest.deviceId)
      if (revokedAt !== undefined && issuedAt.getTime() <= revokedAt.getTime()) {
        throw new SeedError(
          'SEED_DEVICE_REVOKED',
          `${owner} revoked this device at ${revokedAt.toISOString()}: it gets keys again only once the owner pairs it anew`
        )
      }
      const limited = releaseLimit(keyRequest.deviceId, owner)
      if (limited !== undefined) {
        reply.header('retry-after', String(limited.retryAfterSeconds))
        throw new SeedError('SEED_RATE_LIMITED', limited.reason)
      }

      const tokenId = keyRequest.tokenId
      const film = await ownFilm(tokenId, { chain, published, served, readChain })
      const blockTag = await readChain(async () => await confirmedBlockTag(chain, opts.confirmations))
      const balance: bigint = await readChain(async () => await chain.contract.balanceOf(owner, tokenId, { blockTag }))
      if (balance < 1n) {
        const confirmed = opts.confirmations === 0 ? '' : ` with ${opts.confirmations} confirmations`
        throw new SeedError('SEED_NOT_A_HOLDER', `${owner} holds no token of film ${tokenId}${confirmed}`)
      }
      const contentKey = await custody.get(film.contentCid)
      if (contentKey === undefined) throw new SeedError('SEED_FILM_KEY_NOT_HELD', `this custodian does not hold the key of film ${tokenId}`)
      const context = filmKeyContext(
        { chainId: chain.chainId, contract: String(chain.contract.target), tokenId, contentCid: film.contentCid },
        keyRequest.deviceId
      )
      request.log.info({ tokenId, deviceId: keyRequest.deviceId, owner }, 'film key released')
      return { wrappedKey: wrapKey(contentKey, x25519PublicKey, context), owner: getAddress(owner) }
    }
  )
}
