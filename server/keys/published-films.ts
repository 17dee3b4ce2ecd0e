import { getAddress } from '../lib/ethers.ts'
import { section, type StateDb } from '../storage/state-db.ts'

declare module '../storage/state-db.ts' {
  interface StateSchema {
    published: { [tokenId: string]: PublishedFilm }
  }
}

/**
 * A film this custodian registered on chain itself, kept once the registration is mined: the token
 * id it got, the sealed content it carries and the creator who signed it. Key release trusts this
 * record, never a token's metadata URI, which any creator can register again for a token of their own.
 */
export interface PublishedFilm {
  tokenId: string
  title: string
  metadataCid: string
  contentCid: string
  publishedAt: string
  /**
   * The creator's address and the contract, recorded since key release checks them; a record from an
   * older release has neither, and its creator is the token's on-chain creator (this custodian
   * registered the token itself, so whoever signed it is a creator it published with).
   */
  creator?: string
  contract?: string
}

export interface PublishedFilms {
  record(film: PublishedFilm): Promise<void>
  get(tokenId: string): Promise<PublishedFilm | undefined>
  /** Every film published here, in token id order of the keys. */
  list(): Promise<PublishedFilm[]>
}

export function publishedFilms(db: StateDb): PublishedFilms {
  const films = section(db, 'published')
  return {
    record: async film => {
      await films.put(film.tokenId, {
        ...film,
        ...(film.creator !== undefined ? { creator: getAddress(film.creator) } : {}),
        ...(film.contract !== undefined ? { contract: getAddress(film.contract) } : {})
      })
    },
    get: async tokenId => await films.get(tokenId),
    list: async () => (await films.entries()).map(([, film]) => film)
  }
}
