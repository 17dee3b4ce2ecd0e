import type { FastifyBaseLogger } from 'fastify'
import type { StorageNode } from '../storage/helia-node.ts'
import type { DeviceIdentity } from '../identity/device-identity.ts'
import type { FilmTokenClient } from '../chain/film-token.ts'
import type { HoldingsChange } from '../chain/watcher.ts'
import type { OwnerAuthorisation } from '../wire/custodian-protocol.ts'
import type { StateDb } from '../storage/state-db.ts'
import type { SealedFilm } from './sealed-film.ts'
import type { FilmStreams } from './film-streams.ts'
import { SeedError } from '../lib/errors.ts'
import type { FilmMetadata, RenditionChoice } from './film-metadata.ts'
import type { FilmRecord } from './film-record.ts'
import { ensureRoomFor } from '../storage/disk-space.ts'
import { createFilmRecords } from './film-records.ts'
import { createWorkQueue } from './work-queue.ts'
import { createFilmKeys } from './film-keys.ts'
import { ownedFilmParts, pinFilm, unpinFilm } from './film-pinning.ts'
import { sealedBytesOf } from './film-parts.ts'
import { createFilmAccess } from './film-access.ts'
import { createFilmReading } from './film-reading.ts'
import { createMetadataLoads } from './metadata-loads.ts'
import { createSaleLock } from './film-sale.ts'

export interface LibraryOptions {
  db: StateDb
  helia: StorageNode
  identity: DeviceIdentity
  chain: FilmTokenClient
  authorisation: () => Promise<OwnerAuthorisation | undefined>
  unpinGraceMs: number
  offlineKeyGraceMs: number
  /** A pin that receives no block for this long gives up (and is retried later), so it cannot hold up the films after it. */
  pinStallMs: number
  /** Where the pins go: a film is pinned only while it fits there (storage/disk-space.ts). */
  dataDir: string
  /** A playback read that waits this long for blocks from the network fails (a film still pinning); default in sealed-film.ts. */
  fetchTimeoutMs?: number
  /** The owner's developer-mode setting: `test` and `development` films are shown only with it. */
  developerMode(): Promise<boolean>
  /** The film responses open now: a film that locks has its cut, so a sale stops a screen already playing it. */
  streams: FilmStreams
  /** A film's record changed in what the screens show (pin progress aside: screens poll for it while a film prepares). */
  onChange?: () => void
  log: FastifyBaseLogger
}

export interface Library {
  /** Applies a holdings change seen on chain. */
  applyHolding(change: HoldingsChange): Promise<void>
  /** Every film the owner holds or held, shown or not. */
  list(): Promise<FilmRecord[]>
  /** The films the owner's screens show now (content classes, expiry and developer mode applied). */
  shown(): Promise<FilmRecord[]>
  /** One film the screens show; 404 for a film not in the library or not shown. */
  film(tokenId: string): Promise<FilmRecord>
  /**
   * The decrypting reader of a film the owner holds, ready or still pinning: blocks not on the box
   * yet are fetched from peers as the stream reads them, while the pin goes on.
   */
  openForPlayback(tokenId: string, rendition?: RenditionChoice): Promise<{ film: SealedFilm; metadata: FilmMetadata }>
  poster(tokenId: string): Promise<Uint8Array>
  subtitles(tokenId: string, index: number): Promise<Uint8Array>
  /** The WebVTT chapters track, decrypted. */
  chapters(tokenId: string): Promise<Uint8Array>
  /** Sheet `index` of the seek thumbnails (JPEG), decrypted. */
  thumbnails(tokenId: string, index: number): Promise<Uint8Array>
  /** Picks up work left unfinished by the last run (pins, locks past their grace). */
  resume(): Promise<void>
  close(): Promise<void>
  /** Unpairing: stops all work, erases every film key the box holds, releases the films' pins and forgets them. */
  forget(): Promise<void>
}

/** A holding seen on chain applied to the film's record: bought again during the grace period, the film starts over (a new key is needed). */
function heldRecord(existing: FilmRecord | undefined, change: HoldingsChange): FilmRecord {
  const record: FilmRecord = existing ?? {
    tokenId: change.tokenId,
    quantity: '0',
    tier: 0,
    metadataUri: change.metadataUri,
    state: 'pending',
    progress: 0
  }
  const next = { ...record, quantity: change.quantity, tier: change.tier, metadataUri: change.metadataUri }
  if (BigInt(change.quantity) > 0n && record.state === 'locked') return { ...next, state: 'pending', progress: 0, lockedAt: undefined }
  return next
}

/**
 * The owner's films on this box: holdings from the chain watcher become metadata, a wrapped key from
 * the custodian and local pins ("ready"); a sale locks playback at once, erases the key, and releases
 * the pins after a grace period. Work runs one film at a time so playback keeps the CPU and disk.
 */
export function createLibrary(opts: LibraryOptions): Library {
  const { helia, log } = opts
  const records = createFilmRecords(opts.db, opts.onChange)
  const queue = createWorkQueue({ run: process, scheduled: prefetchMetadata, records, log })
  const withMetadata = createMetadataLoads(helia, records, queue.signal)
  const keys = createFilmKeys({ ...opts, metadataOf: async tokenId => (await records.saved(tokenId))?.metadata })
  const access = createFilmAccess(records, opts.developerMode)
  const reading = createFilmReading({ helia, access, keys, fetchTimeoutMs: opts.fetchTimeoutMs })
  const lock = createSaleLock({ ...opts, records, keys, reading, queue })

  function prefetchMetadata(tokenId: string): void {
    void records
      .saved(tokenId)
      .then(async record => {
        if (record !== undefined && BigInt(record.quantity) > 0n) await withMetadata(record)
      })
      .catch(() => {}) // the film's turn in the queue fetches it again and reports the error
  }

  async function process(tokenId: string): Promise<void> {
    let record = await records.saved(tokenId)
    if (record === undefined) return
    if (BigInt(record.quantity) === 0n) return await lock(record)
    record = await withMetadata(record)
    const metadata = record.metadata as FilmMetadata
    if (!(await keys.has(tokenId))) await keys.fetch(tokenId, metadata)
    if (record.state === 'ready') return
    await ensureRoomFor(opts.dataDir, sealedBytesOf(ownedFilmParts(record.metadataUri, metadata)) * (1 - record.progress))
    record = await records.update(tokenId, { state: 'pinning', unpinned: false })
    await pinFilm({
      helia,
      tokenId,
      metadataUri: record.metadataUri,
      metadata,
      signal: queue.signal,
      stallMs: opts.pinStallMs,
      dataDir: opts.dataDir,
      later: queue.later,
      saveProgress: progress => records.saveProgress(tokenId, progress)
    })
    await records.update(tokenId, { state: 'ready', progress: 1 })
    log.info({ tokenId, title: metadata.title }, 'film ready')
  }

  return {
    async applyHolding(change) {
      const record = await records.mutate(change.tokenId, existing => heldRecord(existing, change))
      // a sale locks at once rather than behind other films' work (a pin can wait long for its blocks)
      if (record !== undefined && BigInt(record.quantity) === 0n) await lock(record)
      queue.schedule(change.tokenId)
    },
    list: records.list,
    shown: access.shown,
    film: access.film,
    openForPlayback: reading.openForPlayback,
    poster: reading.poster,
    subtitles: reading.subtitles,
    chapters: reading.chapters,
    thumbnails: reading.thumbnails,
    async resume() {
      for (const [tokenId, record] of await records.entries()) {
        const settled = record.state === 'ready' || (record.state === 'locked' && record.unpinned === true)
        if (!settled) queue.schedule(tokenId)
      }
    },
    close: queue.close,
    async forget() {
      opts.streams.cutAll(new SeedError('SEED_UNPAIRED', 'this Seed One was unpaired: playback stopped'))
      await queue.close()
      await records.settled()
      for (const [tokenId, record] of await records.entries()) {
        await keys.del(tokenId)
        if (record.metadata !== undefined) await unpinFilm(helia, record.metadataUri, record.metadata)
        await records.del(tokenId)
      }
    }
  }
}
