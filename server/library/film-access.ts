import { SeedError } from '../lib/errors.ts'
import { isShown } from './content-class.ts'
import type { FilmMetadata } from './film-metadata.ts'
import type { FilmRecord } from './film-record.ts'
import type { FilmRecords } from './film-records.ts'

/** Which films the owner's screens see and may play. */
export interface FilmAccess {
  /** The films the screens show now (content classes, expiry and developer mode applied). */
  shown(): Promise<FilmRecord[]>
  /** One film the screens show; 404 for a film not in the library or not shown (a hidden one is answered as if it were not there). */
  film(tokenId: string): Promise<FilmRecord>
  /** A shown film that is ready, or pinning: its key is held and its blocks are arriving, so reads can fetch what is missing. */
  playable(tokenId: string): Promise<FilmRecord & { metadata: FilmMetadata }>
}

/** `developerMode` is the owner's setting: `test` and `development` films are shown only with it. */
export function createFilmAccess(records: FilmRecords, developerMode: () => Promise<boolean>): FilmAccess {
  async function film(tokenId: string): Promise<FilmRecord> {
    const record = await records.get(tokenId)
    if (record === undefined || !isShown(record.metadata, await developerMode()))
      throw new SeedError('SEED_FILM_NOT_FOUND', `film ${tokenId} is not in this library`)
    return record
  }
  return {
    async shown() {
      const developer = await developerMode()
      return (await records.list()).filter(record => isShown(record.metadata, developer))
    },
    film,
    async playable(tokenId) {
      const record = await film(tokenId)
      if (record.state === 'locked' || BigInt(record.quantity) === 0n)
        throw new SeedError('SEED_FILM_NOT_OWNED', `film ${tokenId} is no longer owned`)
      if (record.metadata === undefined || (record.state !== 'ready' && record.state !== 'pinning'))
        throw new SeedError('SEED_FILM_NOT_READY', `film ${tokenId} is not ready yet (${record.state})`)
      return record as FilmRecord & { metadata: FilmMetadata }
    }
  }
}
