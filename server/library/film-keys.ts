import type { DeviceIdentity } from '../identity/device-identity.ts'
import type { FilmTokenClient } from '../chain/film-token.ts'
import { checkAuthorisationTimes } from '../pairing/owner-authorisation.ts'
import type { OwnerAuthorisation } from '../wire/custodian-protocol.ts'
import { section, type StateDb } from '../storage/state-db.ts'
import { unwrapKey } from '../sealing/wrap.ts'
import { requestFilmKey } from '../keys/key-request.ts'
import { filmKeyContext } from '../wire/custodian-protocol.ts'
import { SeedError } from '../lib/errors.ts'
import type { FilmMetadata } from './film-metadata.ts'
import type { StoredFilmKey } from './film-record.ts'

export interface FilmKeysOptions {
  db: StateDb
  identity: DeviceIdentity
  chain: FilmTokenClient
  authorisation: () => Promise<OwnerAuthorisation | undefined>
  offlineKeyGraceMs: number
  /** A film's metadata as its record holds it, to ask its custodian again. */
  metadataOf(tokenId: string): Promise<FilmMetadata | undefined>
}

/** The owner's film keys in the 'film-keys' section: wrapped to this device, released by each film's custodian. */
export interface FilmKeys {
  has(tokenId: string): Promise<boolean>
  /** Whether the key is held and within its offline grace (past it, the custodian must confirm the owner again). */
  fresh(tokenId: string): Promise<boolean>
  /** Asks the film's custodian for its key with the owner's authorisation, and keeps it. */
  fetch(tokenId: string, metadata: FilmMetadata): Promise<void>
  /** The film's content key, unwrapped; verified again with the custodian past the offline grace. */
  contentKey(tokenId: string): Promise<Uint8Array>
  del(tokenId: string): Promise<void>
}

export function createFilmKeys(opts: FilmKeysOptions): FilmKeys {
  const { identity, chain } = opts
  const keys = section(opts.db, 'film-keys')
  const pastGrace = (stored: StoredFilmKey): boolean => Date.now() - Date.parse(stored.verifiedAt) > opts.offlineKeyGraceMs

  async function fetch(tokenId: string, metadata: FilmMetadata): Promise<void> {
    const authorisation = await opts.authorisation()
    if (authorisation === undefined) throw new Error('this box is not paired with an owner')
    // a lapsed authorisation is not even shown to the custodian: the TV asks the owner to renew it
    checkAuthorisationTimes(authorisation)
    const { wrappedKey } = await requestFilmKey({
      custodianUrl: metadata.custodian.url,
      identity,
      authorisation,
      chainId: chain.chainId,
      contract: String(chain.contract.target),
      tokenId
    })
    await keys.put(tokenId, {
      wrappedKey,
      custodianUrl: metadata.custodian.url,
      contentCid: metadata.content.cid,
      verifiedAt: new Date().toISOString()
    })
  }

  async function contentKey(tokenId: string): Promise<Uint8Array> {
    let stored = await keys.get(tokenId)
    if (stored === undefined) throw new SeedError('SEED_FILM_KEY_MISSING', `film ${tokenId} has no key on this box`)
    // a key kept by an older release is wrapped under the context without the content CID: asked again
    if (pastGrace(stored) || stored.contentCid === undefined) {
      // past the offline grace, the custodian must confirm the owner still holds the film
      const metadata = await opts.metadataOf(tokenId)
      if (metadata === undefined) throw new SeedError('SEED_FILM_KEY_UNCONFIRMED', `film ${tokenId} needs to be verified again`)
      await fetch(tokenId, metadata).catch(err => {
        throw new SeedError(
          'SEED_FILM_KEY_UNCONFIRMED',
          `film ${tokenId} needs its custodian to confirm ownership again: ${(err as Error).message}`
        )
      })
      stored = (await keys.get(tokenId)) as StoredFilmKey
    }
    const film = { chainId: chain.chainId, contract: String(chain.contract.target), tokenId, contentCid: stored.contentCid as string }
    return unwrapKey(stored.wrappedKey, identity.x25519PrivateKey, filmKeyContext(film, identity.deviceId))
  }

  return {
    has: async tokenId => (await keys.get(tokenId)) !== undefined,
    fresh: async tokenId => {
      const stored = await keys.get(tokenId)
      return stored !== undefined && !pastGrace(stored)
    },
    fetch,
    contentKey,
    del: async tokenId => await keys.del(tokenId)
  }
}
