import type { FastifyBaseLogger } from 'fastify'
import type { DeviceIdentity } from '../identity/device-identity.ts'
import type { FilmTokenClient } from '../chain/film-token.ts'
import type { HoldingsChange } from '../chain/watcher.ts'
import { checkAuthorisationTimes, type OwnerAuthorisation } from '../pairing/owner-authorisation.ts'
import { section, type StateDb } from '../storage/state-db.ts'
import type { StorageNode } from '../storage/helia-node.ts'
import { pinWithProgress, unpin } from '../storage/content.ts'
import { openSealedFilm, type SealedFilm } from '../streaming/sealed-film.ts'
import type { FilmStreams } from '../streaming/film-streams.ts'
import { openBuffer } from '../sealing/open.ts'
import { unwrapKey } from '../keys/wrap.ts'
import { filmKeyContext, requestFilmKey } from '../keys/key-request.ts'
import { HttpError } from '../http-error.ts'
import type { CID } from 'multiformats/cid'
import {
  MAX_SIDE_FILE_BYTES,
  metadataBound,
  metadataCidFromUri,
  parseCid,
  parseFilmMetadata,
  thumbnailSheetsOf,
  type FilmMetadata
} from './film-metadata.ts'
import type { FileBound } from '../storage/dag-bounds.ts'
import type { FilmRecord, StoredFilmKey } from './film-record.ts'
import { isShown } from './content-class.ts'
import { diskSpaceReason, ensureRoomFor } from '../storage/disk-space.ts'

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
  openForPlayback(tokenId: string): Promise<{ film: SealedFilm; metadata: FilmMetadata }>
  poster(tokenId: string): Promise<Uint8Array>
  subtitles(tokenId: string, index: number): Promise<Uint8Array>
  /** Sheet `index` of the seek thumbnails (JPEG), decrypted. */
  thumbnails(tokenId: string, index: number): Promise<Uint8Array>
  /** Picks up work left unfinished by the last run (pins, locks past their grace). */
  resume(): Promise<void>
  close(): Promise<void>
  /** Unpairing: stops all work, erases every film key the box holds, releases the films' pins and forgets them. */
  forget(): Promise<void>
}

const METADATA_TIMEOUT_MS = 60_000
const RETRY_FIRST_MS = 5_000
const RETRY_MAX_MS = 10 * 60_000
const PROGRESS_SAVE_INTERVAL_MS = 1_000
/** A film waiting for disk space tries again this often at most: a check of the free space is cheap. */
const DISK_RETRY_MS = 10_000

/** Everything a film pins: its metadata, the artwork, subtitles and thumbnails, then the (large) content last. */
export function filmCids(metadataUri: string, metadata: FilmMetadata): CID[] {
  const sheets = thumbnailSheetsOf(metadata)?.sheets ?? []
  const small = [metadata.poster.cid, ...metadata.subtitles.map(s => s.cid), ...sheets.map(s => s.cid)]
  return [metadataCidFromUri(metadataUri), ...[...small, metadata.content.cid].map(parseCid)]
}

/** What a pin of each of filmCids may hold: the content exactly its sealedBytes, the rest at most their caps. */
function filmBounds(tokenId: string, metadata: FilmMetadata): FileBound[] {
  const film = `"${metadata.title}" (film ${tokenId})`
  const side = (what: string): FileBound => ({ what: `${film}'s ${what}`, bytes: MAX_SIDE_FILE_BYTES })
  return [
    metadataBound(film),
    side('poster'),
    ...metadata.subtitles.map(track => side(`${track.label} subtitles`)),
    ...(thumbnailSheetsOf(metadata)?.sheets ?? []).map((_, n) => side(`thumbnail sheet ${n}`)),
    { what: `${film}'s content`, bytes: metadata.content.sealedBytes, exact: true }
  ]
}

/** An AbortSignal that fires when `touch` has not been called for `ms`. */
function stallWatch(ms: number): { signal: AbortSignal; touch(): void; close(): void } {
  const controller = new AbortController()
  const timer = setTimeout(() => controller.abort(), ms)
  return {
    signal: controller.signal,
    touch() {
      timer.refresh()
    },
    close() {
      clearTimeout(timer)
    }
  }
}

/**
 * The owner's films on this box: holdings from the chain watcher become metadata, a wrapped key from
 * the custodian and local pins ("ready"); a sale locks playback at once, erases the key, and releases
 * the pins after a grace period. Work runs one film at a time so playback keeps the CPU and disk.
 */
export function createLibrary(opts: LibraryOptions): Library {
  const { helia, identity, chain, onChange, log } = opts
  const records = section<FilmRecord>(opts.db, 'films')
  const keys = section<StoredFilmKey>(opts.db, 'film-keys')
  const openFilms = new Map<string, Promise<SealedFilm>>()
  const metadataLoads = new Map<string, Promise<FilmRecord>>()
  const queue = new Set<string>()
  const retryDelays = new Map<string, number>()
  /** Errors that could not be saved (a full disk fails the state database's writes too): shown until a save succeeds. */
  const unsavedErrors = new Map<string, string>()
  const timers = new Set<NodeJS.Timeout>()
  const aborter = new AbortController()
  let working: Promise<void> | undefined

  const schedule = (tokenId: string): void => {
    void records
      .get(tokenId)
      .then(async record => {
        if (record !== undefined && BigInt(record.quantity) > 0n) await withMetadata(record)
      })
      .catch(() => {}) // the film's turn in the queue fetches it again and reports the error
    queue.add(tokenId)
    working ??= drain().finally(() => {
      working = undefined
    })
  }

  const later = (ms: number, fn: () => void): void => {
    const timer = setTimeout(() => {
      timers.delete(timer)
      fn()
    }, ms)
    timer.unref()
    timers.add(timer)
  }

  async function drain(): Promise<void> {
    while (queue.size > 0 && !aborter.signal.aborted) {
      const [tokenId] = queue
      queue.delete(tokenId)
      try {
        await process(tokenId)
        retryDelays.delete(tokenId)
      } catch (err) {
        if (aborter.signal.aborted) return
        const backoff = Math.min((retryDelays.get(tokenId) ?? RETRY_FIRST_MS / 2) * 2, RETRY_MAX_MS)
        retryDelays.set(tokenId, backoff)
        const diskReason = diskSpaceReason(err)
        const delay = diskReason === undefined ? backoff : Math.min(backoff, DISK_RETRY_MS)
        const reason = diskReason ?? (err as Error).message
        log.warn({ tokenId, err: reason, retryInMs: delay }, 'film not ready yet')
        // the retry is scheduled even when the state cannot be saved
        await update(tokenId, { state: 'error', error: reason }).catch(saveErr => {
          unsavedErrors.set(tokenId, reason)
          log.error({ tokenId, err: (saveErr as Error).message }, 'the film state could not be saved')
        })
        later(delay, () => schedule(tokenId))
      }
    }
  }

  // Record writes are serialised: a pin-progress write must never land after, and undo, a state change.
  let writes: Promise<unknown> = Promise.resolve()
  function mutate(
    tokenId: string,
    change: (current: FilmRecord | undefined) => FilmRecord | undefined,
    { quiet = false }: { quiet?: boolean } = {}
  ): Promise<FilmRecord | undefined> {
    const write = writes.then(async () => {
      const next = change(await records.get(tokenId))
      if (next === undefined) return next
      await records.put(tokenId, next)
      if (!quiet) onChange?.()
      return next
    })
    writes = write.catch(() => {})
    return write
  }

  async function update(tokenId: string, changes: Partial<FilmRecord>): Promise<FilmRecord> {
    const next = await mutate(tokenId, current => {
      if (current === undefined) throw new Error(`film ${tokenId} is not in the library`)
      const record = { ...current, ...changes }
      if (!('error' in changes)) delete record.error
      return record
    })
    unsavedErrors.delete(tokenId)
    return next as FilmRecord
  }

  function saveProgress(tokenId: string, progress: number): void {
    void mutate(tokenId, current => (current?.state === 'pinning' ? { ...current, progress } : undefined), { quiet: true }).catch(() => {})
  }

  /**
   * Fetches a film's metadata once, outside the one-at-a-time queue: a film bought behind a large pin
   * is listed by its title and poster at once (and hidden at once when its class says so).
   */
  function withMetadata(record: FilmRecord): Promise<FilmRecord> {
    if (record.metadata !== undefined) return Promise.resolve(record)
    const { tokenId } = record
    let load = metadataLoads.get(tokenId)
    if (load === undefined) {
      load = helia.content
        .readBytes(metadataCidFromUri(record.metadataUri), {
          bound: metadataBound(`film ${tokenId}`),
          signal: AbortSignal.any([aborter.signal, AbortSignal.timeout(METADATA_TIMEOUT_MS)])
        })
        .then(async bytes => {
          const metadata = parseFilmMetadata(bytes)
          // the state and its error stay: they belong to the film's turn in the queue
          const next = await mutate(tokenId, current => current && { ...current, metadata })
          if (next === undefined) throw new Error(`film ${tokenId} is not in the library`)
          return next
        })
        .finally(() => metadataLoads.delete(tokenId))
      metadataLoads.set(tokenId, load)
    }
    return load
  }

  async function process(tokenId: string): Promise<void> {
    let record = await records.get(tokenId)
    if (record === undefined) return
    if (BigInt(record.quantity) === 0n) {
      await lock(record)
      return
    }
    record = await withMetadata(record)
    const metadata = record.metadata as FilmMetadata
    if ((await keys.get(tokenId)) === undefined) await fetchKey(tokenId, metadata)
    if (record.state === 'ready') return
    await ensureRoomFor(opts.dataDir, metadata.content.sealedBytes * (1 - record.progress))
    record = await update(tokenId, { state: 'pinning', unpinned: false })
    await pinFilm(record, metadata)
    await update(tokenId, { state: 'ready', progress: 1 })
    log.info({ tokenId, title: metadata.title }, 'film ready')
  }

  async function fetchKey(tokenId: string, metadata: FilmMetadata): Promise<void> {
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

  async function pinFilm(record: FilmRecord, metadata: FilmMetadata): Promise<void> {
    const tokenId = record.tokenId
    const totalBytes = Math.max(1, metadata.content.sealedBytes)
    // At most one write per interval, and the latest figure always lands: a pin that stalls shows
    // how far it got, not what it had when the last write happened to be due.
    let lastSave = 0
    let latest = 0
    let saveDue = false
    const reportProgress = (bytes: number): void => {
      latest = Math.min(0.99, bytes / totalBytes)
      if (saveDue) return
      saveDue = true
      later(Math.max(0, lastSave + PROGRESS_SAVE_INTERVAL_MS - Date.now()), () => {
        saveDue = false
        lastSave = Date.now()
        saveProgress(tokenId, latest)
      })
    }
    const cids = filmCids(record.metadataUri, metadata)
    const bounds = filmBounds(tokenId, metadata)
    // the custodian holds every block of its films: asked over HTTP with the monitor's holders, or alone
    // without a monitor; playback reads of the film while it pins ask it too (their root is the content's)
    const unhint = helia.fetcher.hintHolder(cids, metadata.custodian.url)
    const stall = stallWatch(opts.pinStallMs)
    try {
      const signal = AbortSignal.any([aborter.signal, stall.signal])
      const contentCid = metadata.content.cid
      for (const [i, cid] of cids.entries()) {
        const isContent = cid.toString() === contentCid
        await pinWithProgress(helia, cid, {
          bound: bounds[i],
          signal,
          onProgress: ({ bytes }) => {
            stall.touch()
            if (isContent) reportProgress(bytes)
          }
        })
      }
    } catch (err) {
      if (!stall.signal.aborted) throw err
      // a block that could not be written for want of space is not reported by the fetch: it just never arrives
      await ensureRoomFor(opts.dataDir, metadata.content.sealedBytes * (1 - latest))
      throw new Error(
        `pinning stalled: no block arrived for ${Math.round(opts.pinStallMs / 1000)} s (${Math.floor(latest * 100)} % held); no reachable peer has the rest yet`
      )
    } finally {
      stall.close()
      unhint()
    }
  }

  async function lock(record: FilmRecord): Promise<void> {
    const tokenId = record.tokenId
    if (record.state !== 'locked') {
      await keys.del(tokenId)
      openFilms.delete(tokenId)
      record = await update(tokenId, { state: 'locked', lockedAt: new Date().toISOString() })
      // after the state: a stream asked for from now on is refused (playableRecord) or, if it got past
      // that check already, followed by now and cut here
      const cut = opts.streams.cut(tokenId, new HttpError(403, `film ${tokenId} is no longer owned by this wallet: playback stopped`))
      log.info({ tokenId, streamsCut: cut }, 'film sold: playback locked, open streams cut and key erased')
    }
    if (record.unpinned === true || record.metadata === undefined) return
    const releaseAt = Date.parse(record.lockedAt as string) + opts.unpinGraceMs
    if (Date.now() < releaseAt) {
      later(Math.min(releaseAt - Date.now(), 2 ** 31 - 1), () => schedule(tokenId))
      return
    }
    for (const cid of filmCids(record.metadataUri, record.metadata)) await unpin(helia, cid)
    await update(tokenId, { unpinned: true })
    log.info({ tokenId }, 'sold film released from local storage')
  }

  const pastGrace = (stored: StoredFilmKey): boolean => Date.now() - Date.parse(stored.verifiedAt) > opts.offlineKeyGraceMs

  async function contentKey(tokenId: string): Promise<Uint8Array> {
    let stored = await keys.get(tokenId)
    if (stored === undefined) throw new HttpError(403, `film ${tokenId} has no key on this box`)
    // a key kept by an older release is wrapped under the context without the content CID: asked again
    if (pastGrace(stored) || stored.contentCid === undefined) {
      // past the offline grace, the custodian must confirm the owner still holds the film
      const record = await records.get(tokenId)
      if (record?.metadata === undefined) throw new HttpError(403, `film ${tokenId} needs to be verified again`)
      await fetchKey(tokenId, record.metadata).catch(err => {
        throw new HttpError(403, `film ${tokenId} needs its custodian to confirm ownership again: ${(err as Error).message}`)
      })
      stored = (await keys.get(tokenId)) as StoredFilmKey
    }
    const film = { chainId: chain.chainId, contract: String(chain.contract.target), tokenId, contentCid: stored.contentCid as string }
    return unwrapKey(stored.wrappedKey, identity.x25519PrivateKey, filmKeyContext(film, identity.deviceId))
  }

  /** The record as saved, or with the error that could not be saved. */
  const current = (record: FilmRecord): FilmRecord => {
    const error = unsavedErrors.get(record.tokenId)
    return error === undefined ? record : { ...record, state: 'error', error }
  }

  /** A film the owner's screens show; a hidden one is answered as if it were not there. */
  async function shownRecord(tokenId: string): Promise<FilmRecord> {
    const saved = await records.get(tokenId)
    const record = saved === undefined ? undefined : current(saved)
    if (record === undefined || !isShown(record.metadata, await opts.developerMode()))
      throw new HttpError(404, `film ${tokenId} is not in this library`)
    return record
  }

  /** Ready, or pinning: its key is held and its blocks are arriving, so reads can fetch what is missing. */
  async function playableRecord(tokenId: string): Promise<FilmRecord & { metadata: FilmMetadata }> {
    const record = await shownRecord(tokenId)
    if (record.state === 'locked' || BigInt(record.quantity) === 0n) throw new HttpError(403, `film ${tokenId} is no longer owned`)
    if (record.metadata === undefined || (record.state !== 'ready' && record.state !== 'pinning'))
      throw new HttpError(409, `film ${tokenId} is not ready yet (${record.state})`)
    return record as FilmRecord & { metadata: FilmMetadata }
  }

  /** A small file sealed with the film's key (subtitles, thumbnails), decrypted. */
  async function openSealedFile(tokenId: string, cid: string): Promise<Uint8Array> {
    const sealed = await helia.content.readBytes(parseCid(cid), {
      bound: { what: `film ${tokenId}'s ${cid}`, bytes: MAX_SIDE_FILE_BYTES },
      signal: AbortSignal.timeout(METADATA_TIMEOUT_MS)
    })
    return openBuffer(await contentKey(tokenId), sealed)
  }

  return {
    async applyHolding(change) {
      const record = await mutate(change.tokenId, existing => {
        const record: FilmRecord = existing ?? {
          tokenId: change.tokenId,
          quantity: '0',
          tier: 0,
          metadataUri: change.metadataUri,
          state: 'pending',
          progress: 0
        }
        const next = { ...record, quantity: change.quantity, tier: change.tier, metadataUri: change.metadataUri }
        // bought again during the grace period: the film starts over (a new key is needed)
        if (BigInt(change.quantity) > 0n && record.state === 'locked')
          return { ...next, state: 'pending', progress: 0, lockedAt: undefined }
        return next
      })
      // a sale locks at once rather than behind other films' work (a pin can wait long for its blocks)
      if (record !== undefined && BigInt(record.quantity) === 0n) await lock(record)
      schedule(change.tokenId)
    },
    async list() {
      return (await records.entries()).map(([, record]) => current(record))
    },
    async shown() {
      const developerMode = await opts.developerMode()
      return (await records.entries()).map(([, record]) => current(record)).filter(record => isShown(record.metadata, developerMode))
    },
    film: shownRecord,
    async openForPlayback(tokenId) {
      const record = await playableRecord(tokenId)
      let film = openFilms.get(tokenId)
      // a film kept open past its key's grace is verified again, as if it were opened now
      const stored = await keys.get(tokenId)
      if (film !== undefined && (stored === undefined || pastGrace(stored))) film = undefined
      if (film === undefined) {
        film = contentKey(tokenId).then(
          async key =>
            await openSealedFilm(helia.content, parseCid(record.metadata.content.cid), key, { fetchTimeoutMs: opts.fetchTimeoutMs })
        )
        openFilms.set(tokenId, film)
        film.catch(() => openFilms.delete(tokenId))
      }
      return { film: await film, metadata: record.metadata }
    },
    async poster(tokenId) {
      const record = await shownRecord(tokenId)
      if (record.metadata === undefined) throw new HttpError(404, `film ${tokenId} has no poster here yet`)
      return await helia.content.readBytes(parseCid(record.metadata.poster.cid), {
        bound: { what: `film ${tokenId}'s poster`, bytes: MAX_SIDE_FILE_BYTES },
        signal: AbortSignal.timeout(METADATA_TIMEOUT_MS)
      })
    },
    async subtitles(tokenId, index) {
      const record = await playableRecord(tokenId)
      const track = record.metadata.subtitles[index]
      if (track === undefined) throw new HttpError(404, `film ${tokenId} has no subtitle track ${index}`)
      return await openSealedFile(tokenId, track.cid)
    },
    async thumbnails(tokenId, index) {
      const record = await playableRecord(tokenId)
      const sheets = thumbnailSheetsOf(record.metadata)?.sheets ?? []
      if (sheets.length === 0) throw new HttpError(404, `film ${tokenId} has no thumbnails`)
      const sheet = sheets[index]
      if (sheet === undefined) throw new HttpError(404, `film ${tokenId} has thumbnail sheets 0 to ${sheets.length - 1}, not ${index}`)
      return await openSealedFile(tokenId, sheet.cid)
    },
    async resume() {
      for (const [tokenId, record] of await records.entries()) {
        const settled = record.state === 'ready' || (record.state === 'locked' && record.unpinned === true)
        if (!settled) schedule(tokenId)
      }
    },
    async close() {
      aborter.abort()
      for (const timer of timers) clearTimeout(timer)
      await working?.catch(() => {})
    },
    async forget() {
      opts.streams.cutAll(new HttpError(403, 'this Seed One was unpaired: playback stopped'))
      await this.close()
      await writes
      for (const [tokenId, record] of await records.entries()) {
        await keys.del(tokenId)
        if (record.metadata !== undefined) for (const cid of filmCids(record.metadataUri, record.metadata)) await unpin(helia, cid)
        await records.del(tokenId)
      }
    }
  }
}
