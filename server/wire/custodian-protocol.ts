// The contract between a box and a film's custodian (DESIGN decisions 4 and 5): the box asks for a film's
// key under its owner's authorisation, and relays the owner's revocations. Both sides import these; change
// them only together with both sides.
import type { SignedPayload } from './signed-payload.ts'

/** POST FilmKeyRequestBody → FilmKeyResponse: a film's key, wrapped to the asking device. */
export const KEY_RELEASE_PATH = '/api/custody/film-keys'
/** Where a custodian takes revocations (keys/revocations.ts) and a box relays them (pairing/revocation-routes.ts). */
export const REVOCATIONS_PATH = '/api/custody/revocations'

/**
 * The owner's EIP-4361 (Sign-In with Ethereum) authorisation of one device (DESIGN decision 4).
 * The message names the device's peer id and X25519 key as resources, so it authorises exactly
 * that device to receive the owner's film keys; the box keeps it and shows it to custodians.
 * It ends (`Expiration Time`): a resold box or a copied data directory stops receiving keys when it
 * lapses, and the owner renews it by signing the TV's code again before then.
 */
export interface OwnerAuthorisation {
  message: string
  signature: string
}

/** A content key wrapped to one device's X25519 key (sealing/wrap.ts; sealing/SPEC.md, "Key wrap"). */
export interface WrappedKey {
  version: 1
  ephemeralPublicKey: string
  nonce: string
  ciphertext: string
}

/** What a device signs when it asks a custodian for a film's key (DESIGN decision 5). */
export interface FilmKeyRequest {
  purpose: 'seed-one/film-key-request/v1'
  chainId: number
  contract: string
  tokenId: string
  deviceId: string
  x25519PublicKey: string
  issuedAt: string
}

export interface FilmKeyRequestBody {
  authorisation: OwnerAuthorisation
  request: SignedPayload
}

export interface FilmKeyResponse {
  wrappedKey: WrappedKey
  owner: string
}

/**
 * Binds a wrapped key to one film (token and sealed content) on one chain for one device: it unwraps
 * nowhere else, and a box whose token's metadata names other content cannot use it.
 */
export function filmKeyContext(film: { chainId: number; contract: string; tokenId: string; contentCid: string }, deviceId: string): string {
  return `seed-one/film-key/v2|${film.chainId}|${film.contract.toLowerCase()}|${film.tokenId}|${film.contentCid}|${deviceId}`
}
