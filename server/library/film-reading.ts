import type { StorageNode } from '../storage/helia-node.ts'
import { openSealedFilm, type SealedFilm } from './sealed-film.ts'
import { openBuffer } from '../sealing/open.ts'
import { SeedError } from '../lib/errors.ts'
import {
  findRendition,
  MAX_SIDE_FILE_BYTES,
  parseCid,
  thumbnailSheetsOf,
  type FilmMetadata,
  type PictureRole,
  type RenditionChoice
} from './film-metadata.ts'
import type { FilmAccess } from './film-access.ts'
import type { FilmKeys } from './film-keys.ts'
import { METADATA_TIMEOUT_MS } from './metadata-loads.ts'

export interface FilmReadingOptions {
  helia: StorageNode
  access: FilmAccess
  keys: FilmKeys
  /** A playback read that waits this long for blocks from the network fails (a film still pinning); default in sealed-film.ts. */
  fetchTimeoutMs?: number
}

/** The decrypted reads of the owner's films: the film itself, its poster, subtitles, chapters and thumbnails. */
export interface FilmReading {
  /** The film's `content`, or with `rendition` one of its renditions (sealed under the same key). */
  openForPlayback(tokenId: string, rendition?: RenditionChoice): Promise<{ film: SealedFilm; metadata: FilmMetadata }>
  poster(tokenId: string): Promise<Uint8Array>
  subtitles(tokenId: string, index: number): Promise<Uint8Array>
  /** The WebVTT chapters track. */
  chapters(tokenId: string): Promise<Uint8Array>
  thumbnails(tokenId: string, index: number): Promise<Uint8Array>
  /** Forgets the film's open reader (a sold film): the next open needs its key again. */
  drop(tokenId: string): void
}

export function createFilmReading(opts: FilmReadingOptions): FilmReading {
  const { helia, access, keys } = opts
  /** Open readers by `tokenId/cid`: the film's content and each rendition played. */
  const openFilms = new Map<string, Promise<SealedFilm>>()
  const readSmall = async (tokenId: string, cid: string, what: string): Promise<Uint8Array> =>
    await helia.content.readBytes(parseCid(cid), {
      bound: { what: `film ${tokenId}'s ${what}`, bytes: MAX_SIDE_FILE_BYTES },
      signal: AbortSignal.timeout(METADATA_TIMEOUT_MS)
    })
  /** A small file sealed with the film's key (subtitles, thumbnails), decrypted. */
  const openSealedFile = async (tokenId: string, cid: string): Promise<Uint8Array> => {
    const sealed = await readSmall(tokenId, cid, cid)
    return openBuffer(await keys.contentKey(tokenId), sealed)
  }
  return {
    async openForPlayback(tokenId, rendition) {
      const record = await access.playable(tokenId)
      const cid = rendition === undefined ? record.metadata.content.cid : renditionCid(tokenId, record.metadata, rendition)
      const opened = `${tokenId}/${cid}`
      let film = openFilms.get(opened)
      // a film kept open past its key's grace is verified again, as if it were opened now
      if (film !== undefined && !(await keys.fresh(tokenId))) film = undefined
      if (film === undefined) {
        film = keys
          .contentKey(tokenId)
          .then(async key => await openSealedFilm(helia.content, parseCid(cid), key, { fetchTimeoutMs: opts.fetchTimeoutMs }))
        openFilms.set(opened, film)
        film.catch(() => openFilms.delete(opened))
      }
      return { film: await film, metadata: record.metadata }
    },
    async poster(tokenId) {
      const record = await access.film(tokenId)
      if (record.metadata === undefined) throw new SeedError('SEED_FILM_ASSET_NOT_FOUND', `film ${tokenId} has no poster here yet`)
      return await readSmall(tokenId, record.metadata.poster.cid, 'poster')
    },
    async subtitles(tokenId, index) {
      const record = await access.playable(tokenId)
      const track = record.metadata.subtitles[index]
      if (track === undefined) throw new SeedError('SEED_FILM_ASSET_NOT_FOUND', `film ${tokenId} has no subtitle track ${index}`)
      return await openSealedFile(tokenId, track.cid)
    },
    async chapters(tokenId) {
      const record = await access.playable(tokenId)
      const chapters = record.metadata.chapters
      if (chapters === undefined) throw new SeedError('SEED_FILM_ASSET_NOT_FOUND', `film ${tokenId} has no chapters`)
      return await openSealedFile(tokenId, chapters.cid)
    },
    async thumbnails(tokenId, index) {
      const record = await access.playable(tokenId)
      const sheets = thumbnailSheetsOf(record.metadata)?.sheets ?? []
      if (sheets.length === 0) throw new SeedError('SEED_FILM_ASSET_NOT_FOUND', `film ${tokenId} has no thumbnails`)
      const sheet = sheets[index]
      if (sheet === undefined)
        throw new SeedError('SEED_FILM_ASSET_NOT_FOUND', `film ${tokenId} has thumbnail sheets 0 to ${sheets.length - 1}, not ${index}`)
      return await openSealedFile(tokenId, sheet.cid)
    },
    drop: tokenId => {
      for (const opened of openFilms.keys()) if (opened.startsWith(`${tokenId}/`)) openFilms.delete(opened)
    }
  }
}

/** The CID of the film's rendition `choice`; 404 for one the film does not have (films published before renditions have none). */
function renditionCid(tokenId: string, metadata: FilmMetadata, choice: RenditionChoice): string {
  const rendition = findRendition(metadata, choice)
  if (rendition !== undefined) return rendition.cid
  // as the routes name them: a role, or subtitled/<picture subtitle stream>
  const name = (c: RenditionChoice): string => (typeof c === 'string' ? c : `subtitled/${c.imageSubtitle}`)
  const has = (metadata.renditions ?? []).map(r => name(r.burnedIn ?? (r.role as PictureRole)))
  throw new SeedError(
    'SEED_FILM_ASSET_NOT_FOUND',
    `film ${tokenId} has no ${name(choice)} rendition; it has ${has.length === 0 ? 'none: play its /stream' : has.join(', ')}`
  )
}
