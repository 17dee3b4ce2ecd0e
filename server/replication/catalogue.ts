// The network's catalogue: every film registered on the FilmToken contract and not retired, read
// from its FilmRegistered and FilmRetired events (confirmed blocks only, resuming from the last
// processed block), with the CIDs the storage nodes replicate: every part of the film as
// library/film-parts.ts lists them (its metadata, poster, subtitle tracks, chapters track, thumbnail
// sheets, sealed content and renditions), and their sizes.
import { Interface, getAddress, type JsonRpcProvider } from '../lib/ethers.ts'
import type { Result } from 'ethers'
import type { CID } from 'multiformats/cid'
import { metadataCidFromUri, parseCid, parseFilmMetadata, type FilmMetadata } from '../library/film-metadata.ts'
import { filmParts, type FilmPart, type PartKind } from '../library/film-parts.ts'
import { createPollingLoop } from '../chain/polling-loop.ts'
import { readChainHead } from '../chain/chain-head.ts'
import { section, type StateDb, type Store } from '../storage/state-db.ts'
import { defaultConfirmations, type FilmTokenClient } from '../chain/film-token.ts'
import type { ChainConfig } from '../chain/chain-config.ts'
import { DagBoundsError } from '../wire/dag-bounds.ts'

declare module '../storage/state-db.ts' {
  interface StateSchema {
    catalogue: { position: Position; [tokenId: `film:${string}`]: CatalogueFilm }
  }
}

/** One registered film as the catalogue knows it; the CIDs and sizes inside its metadata arrive once it is read. */
export interface CatalogueFilm {
  tokenId: string
  metadataCid: string
  /** Set once the metadata JSON has been read (through IPFS) and validated. */
  metadataBytes?: number
  contentCid?: string
  contentBytes?: number
  /** The film's title, from its metadata. */
  title?: string
  /**
   * Every part of the film, in filmParts' order. Absent in films stored before parts were replicated:
   * their metadata is read once more to learn them (until then they replicate their metadata and
   * content, as before); so are films stored before parts were named.
   */
  parts?: CataloguePart[]
  /** Why the metadata could not be used, when it was read but is not valid (it is not retried). */
  invalid?: string
  /** Retired on chain by its creator (or the admin): kept here only so its replicas can be released. */
  retired?: true
}

/** One part of a film (filmParts) with its size; `bytes` is unknown for a small part on a catalogue without readFileSize (the monitor's). */
export interface CataloguePart extends Pick<FilmPart, 'kind' | 'cid' | 'name'> {
  bytes?: number
}

/** One CID to replicate, in catalogue order. */
export interface CatalogueEntry {
  cid: string
  /** Bytes it takes on disk (the file's bytes; a UnixFS DAG adds a little for its inner nodes). */
  bytes: number
  tokenId: string
  kind: PartKind
  /** What it is (filmParts' name), for logs and errors. */
  name: string
}

type Position = { lastBlock: number }
/** What the catalogue keeps in its state section: the films under `film:<padded id>`, the position under `position`. */
export type CatalogueRecord = CatalogueFilm | Position

export interface CatalogueOptions {
  provider: JsonRpcProvider
  contractAddress: string
  /** The contract's deployment block: the first sync starts there. */
  fromBlock: number
  confirmations: number
  /** The 'catalogue' section of a state database. */
  store: Store<'catalogue'>
  /** The metadata JSON's bytes, at most MAX_METADATA_BYTES or DagBoundsError (a storage node reads them through Helia; the monitor may use a box's block route). */
  readMetadata(cid: CID, signal: AbortSignal): Promise<Uint8Array>
  /**
   * The file bytes under a UnixFS root (its root block's claim, which the pin then holds it to exactly):
   * the size of a part the metadata gives none for (poster, subtitles, thumbnails, chapters). A storage
   * node needs it for its quota; the monitor, which only counts CIDs, goes without.
   */
  readFileSize?(cid: CID, signal: AbortSignal): Promise<number>
  pollMs?: number
  /** How long one metadata read may take before the film waits for the next sync. */
  metadataTimeoutMs?: number
  /** Most blocks per eth_getLogs call. */
  blockWindow?: number
  onError?(err: unknown): void
}

/** Where a catalogue of this chain's films reads and keeps them: the storage role and the monitor both read one. */
export function chainCatalogueOptions(
  chain: Pick<FilmTokenClient, 'provider' | 'chainId'>,
  config: ChainConfig,
  db: StateDb
): Pick<CatalogueOptions, 'provider' | 'contractAddress' | 'fromBlock' | 'confirmations' | 'store'> {
  return {
    provider: chain.provider,
    contractAddress: config.contractAddress,
    fromBlock: config.deploymentBlock,
    confirmations: config.confirmations ?? defaultConfirmations(chain.chainId),
    store: section(db, 'catalogue')
  }
}

export interface Catalogue {
  /** Reads new FilmRegistered events and the metadata not read yet; returns true when the catalogue changed. */
  syncOnce(): Promise<boolean>
  /** Syncs every pollMs; after an error retries with backoff. */
  start(): void
  close(): Promise<void>
  /** Every registered film not retired, in registration order. */
  films(): Promise<CatalogueFilm[]>
  /** The CIDs of retired films that no film still listed shares: what storage nodes release. */
  retiredCids(): Promise<Set<string>>
  /** The CIDs to replicate, in catalogue order: each film's parts in filmParts' order, films in registration order. */
  entries(): Promise<CatalogueEntry[]>
  /** Called after a sync that changed the catalogue. */
  onChange(listener: () => void): () => void
}

const CATALOGUE_ABI = [
  'event FilmRegistered(uint256 indexed id, address indexed creator, string metadataUri, uint256 price, uint256 maxSupply)',
  'event FilmRetired(uint256 indexed id, address indexed by)'
]
const DEFAULT_POLL_MS = 10_000
const DEFAULT_METADATA_TIMEOUT_MS = 30_000
const DEFAULT_BLOCK_WINDOW = 2000
const MAX_BACKOFF_MS = 5 * 60_000
/** uint256 has at most 78 decimal digits: zero-padded ids sort in registration order. */
const filmKey = (tokenId: string): `film:${string}` => `film:${tokenId.padStart(78, '0')}`
const isFilm = (record: CatalogueRecord): record is CatalogueFilm => 'tokenId' in record
const catalogueEvents = new Interface(CATALOGUE_ABI)
const eventTopics = [catalogueEvents.getEvent('FilmRegistered')!.topicHash, catalogueEvents.getEvent('FilmRetired')!.topicHash]
/** A film whose metadata failed skips twice as many syncs after each failure, up to this many (5 min at 10 s). */
const MAX_SKIPPED_SYNCS = 31

async function storedFilms(store: Store<'catalogue'>): Promise<CatalogueFilm[]> {
  return (await store.entries()).flatMap(([, record]) => (isFilm(record) ? [record] : []))
}

/** A film's metadata that could not be read (yet): the film waits, the rest of the catalogue goes on. */
export class FilmUnreadableError extends Error {
  override name = 'FilmUnreadableError'
  readonly tokenId: string
  constructor(tokenId: string, message: string, options?: ErrorOptions) {
    super(message, options)
    this.tokenId = tokenId
  }
}

/** The parts of a film whose metadata has been read: those it lists, or (stored before parts were) its metadata and content. */
export function partsOf(film: CatalogueFilm): CataloguePart[] {
  if (film.parts !== undefined) return film.parts
  if (film.contentCid === undefined || film.contentBytes === undefined || film.metadataBytes === undefined) return []
  return [
    { kind: 'metadata', cid: film.metadataCid, name: 'metadata', bytes: film.metadataBytes },
    { kind: 'content', cid: film.contentCid, name: 'content', bytes: film.contentBytes }
  ]
}

/** The CIDs of complete films with their sizes, in order. Pure: the tests call it on a list of films too. */
export function catalogueEntries(films: CatalogueFilm[]): CatalogueEntry[] {
  return films.flatMap(film =>
    film.invalid !== undefined
      ? []
      : partsOf(film).flatMap(({ kind, cid, name, bytes }) =>
          bytes === undefined ? [] : [{ cid, bytes, tokenId: film.tokenId, kind, name }]
        )
  )
}

/**
 * A film's parts with their sizes: the metadata's read, the content's and renditions' their
 * sealedBytes, the small ones' read from their roots (none without readFileSize); a small part past
 * its cap (MAX_SIDE_FILE_BYTES) is a DagBoundsError.
 */
async function sizedParts(parts: FilmPart[], metadataBytes: number, opts: CatalogueOptions, signal: AbortSignal): Promise<CataloguePart[]> {
  const sized: CataloguePart[] = []
  for (const { kind, cid, name, bytes: bound, exact } of parts) {
    if (kind === 'metadata' || exact || opts.readFileSize === undefined) {
      sized.push({ kind, cid, name, ...(kind === 'metadata' ? { bytes: metadataBytes } : exact ? { bytes: bound } : {}) })
      continue
    }
    const bytes = await opts.readFileSize(parseCid(cid), signal)
    if (bytes > bound) throw new DagBoundsError(`its ${name} ${cid} holds ${bytes} bytes, more than the ${bound} allowed`)
    sized.push({ kind, cid, name, bytes })
  }
  return sized
}

export function createCatalogue(opts: CatalogueOptions): Catalogue {
  const pollMs = opts.pollMs ?? DEFAULT_POLL_MS
  const contractAddress = getAddress(opts.contractAddress.toLowerCase())
  const listeners = new Set<() => void>()
  const aborter = new AbortController()
  const films = async (): Promise<CatalogueFilm[]> => (await storedFilms(opts.store)).filter(film => film.retired !== true)
  const retries: Retries = new Map()

  async function sync(): Promise<boolean> {
    let unpublished = await readEvents(opts, contractAddress)
    let changed = unpublished
    const publish = (): void => {
      unpublished = false
      for (const listener of listeners) listener()
    }
    // each film goes out as soon as it is read: one whose metadata is slow to fail holds up no other
    await readPendingMetadata(opts, retries, aborter.signal, () => {
      changed = true
      publish()
    })
    if (unpublished) publish()
    return changed
  }

  const loop = createPollingLoop({ intervalMs: pollMs, maxBackoffMs: MAX_BACKOFF_MS, run: sync, onError: opts.onError })

  return {
    syncOnce: loop.runOnce,
    start: loop.start,
    async close() {
      // aborted first: a metadata read in flight ends now rather than at its timeout
      aborter.abort()
      await loop.close()
    },
    films,
    entries: async () => catalogueEntries(await films()),
    retiredCids: async () => retiredCids(await storedFilms(opts.store)),
    onChange(listener) {
      listeners.add(listener)
      return () => listeners.delete(listener)
    }
  }
}

/** New registrations and retirements between the saved position and the last confirmed block; true when there were any. */
async function readEvents(opts: CatalogueOptions, contractAddress: string): Promise<boolean> {
  const { provider, store } = opts
  const blockWindow = opts.blockWindow ?? DEFAULT_BLOCK_WINDOW
  const saved = (await store.get('position')) as Position | undefined
  let lastBlock = saved?.lastBlock ?? opts.fromBlock - 1
  const head = await readChainHead(provider)
  let changed = false
  if (head < lastBlock) {
    // a chain shorter than what was read (a devnet started afresh): its films are not these
    for (const film of await storedFilms(store)) await store.del(filmKey(film.tokenId))
    lastBlock = opts.fromBlock - 1
    changed = true
  }
  const target = head - opts.confirmations
  for (let start = lastBlock + 1; start <= target; start += blockWindow) {
    const end = Math.min(start + blockWindow - 1, target)
    const logs = await provider.getLogs({ address: contractAddress, topics: [eventTopics], fromBlock: start, toBlock: end })
    for (const log of logs) {
      const event = catalogueEvents.parseLog(log)
      if (event?.name === 'FilmRegistered') changed = (await storeRegistered(store, event.args)) || changed
      if (event?.name === 'FilmRetired') changed = (await storeRetired(store, event.args)) || changed
    }
    // saved after the window's films: a crash in between reads the window again, which is harmless
    await store.put('position', { lastBlock: end })
  }
  return changed
}

/** A newly registered film, unless stored already; true when it was new. */
async function storeRegistered(store: Store<'catalogue'>, args: Result): Promise<boolean> {
  const tokenId = (args.id as bigint).toString()
  if ((await store.get(filmKey(tokenId))) !== undefined) return false
  const film: CatalogueFilm = { tokenId, metadataCid: '' }
  try {
    film.metadataCid = metadataCidFromUri(args.metadataUri as string).toString()
  } catch (err) {
    film.invalid = (err as Error).message
  }
  await store.put(filmKey(tokenId), film)
  return true
}

/** A film retired: kept with its parts (their replicas are released) but listed no more; true when it was listed. */
async function storeRetired(store: Store<'catalogue'>, args: Result): Promise<boolean> {
  const tokenId = (args.id as bigint).toString()
  const film = (await store.get(filmKey(tokenId))) as CatalogueFilm | undefined
  if (film?.retired === true) return false
  await store.put(filmKey(tokenId), { ...(film ?? { tokenId, metadataCid: '' }), retired: true })
  return true
}

/** The parts of retired films that no listed film shares. */
function retiredCids(stored: CatalogueFilm[]): Set<string> {
  const listed = new Set(catalogueEntries(stored.filter(film => film.retired !== true)).map(entry => entry.cid))
  const parts = stored.filter(film => film.retired === true).flatMap(film => partsOf(film).map(part => part.cid))
  return new Set(parts.filter(cid => !listed.has(cid)))
}

/** Films whose metadata failed, by token id: failures in a row, and syncs still to skip before the next try. */
type Retries = Map<string, { failures: number; skip: number }>

/**
 * The films whose metadata is to be read in this sync, those never tried first: those lacking their
 * parts (new ones, and films stored before parts were replicated: read once more), not retired, and
 * not waiting out their backoff.
 */
function filmsToRead(stored: CatalogueFilm[], retries: Retries): CatalogueFilm[] {
  const named = (film: CatalogueFilm): boolean => film.parts?.every(part => part.name !== undefined) === true
  const pending = stored.filter(film => !named(film) && film.invalid === undefined && film.retired !== true)
  const due = pending.filter(film => {
    const retry = retries.get(film.tokenId)
    if (retry === undefined || retry.skip === 0) return true
    retry.skip--
    return false
  })
  return [...due.filter(film => !retries.has(film.tokenId)), ...due.filter(film => retries.has(film.tokenId))]
}

/** One more failure of the film's metadata: it skips twice as many syncs as before, up to MAX_SKIPPED_SYNCS. */
function backOff(retries: Retries, tokenId: string): void {
  const failures = (retries.get(tokenId)?.failures ?? 0) + 1
  retries.set(tokenId, { failures, skip: Math.min(2 ** (failures - 1) - 1, MAX_SKIPPED_SYNCS) })
}

/** Films whose metadata is read at once: one that nobody serves holds up a slot until its timeout, not the sync. */
const METADATA_READS_AT_ONCE = 4

/**
 * Reads the metadata of films that lack their parts (new ones, and films stored before parts were
 * replicated or named: read once more), a few at once, calling `stored` after each film it stores; a film whose
 * metadata or parts cannot be fetched yet waits for a later sync.
 */
async function readPendingMetadata(opts: CatalogueOptions, retries: Retries, stopping: AbortSignal, stored: () => void): Promise<void> {
  const queue = filmsToRead(await storedFilms(opts.store), retries)
  const worker = async (): Promise<void> => {
    for (let film = queue.shift(); film !== undefined && !stopping.aborted; film = queue.shift()) {
      const read = await readPendingFilm(film, opts, retries, stopping)
      if (read === undefined) continue
      await opts.store.put(filmKey(film.tokenId), read)
      stored()
    }
  }
  await Promise.all(Array.from({ length: METADATA_READS_AT_ONCE }, worker))
}

/** The film as its metadata makes it (or invalid for good), or undefined when it cannot be read yet (said through onError). */
async function readPendingFilm(
  film: CatalogueFilm,
  opts: CatalogueOptions,
  retries: Retries,
  stopping: AbortSignal
): Promise<CatalogueFilm | undefined> {
  try {
    const signal = AbortSignal.any([stopping, AbortSignal.timeout(opts.metadataTimeoutMs ?? DEFAULT_METADATA_TIMEOUT_MS)])
    const read = await readFilm(film, opts, signal)
    retries.delete(film.tokenId)
    return read
  } catch (err) {
    if (stopping.aborted) return undefined
    // a DAG never changes: metadata (or a part) past its bound stays so, and is not read again
    if (err instanceof DagBoundsError) return { ...film, invalid: err.message }
    backOff(retries, film.tokenId)
    const message = `film ${film.tokenId}: metadata ${film.metadataCid} not readable yet: ${(err as Error).message}`
    opts.onError?.(new FilmUnreadableError(film.tokenId, message, { cause: err }))
    return undefined
  }
}

/** The film with what its metadata says (or why it is invalid); throws when it cannot be read yet. */
async function readFilm(film: CatalogueFilm, opts: CatalogueOptions, signal: AbortSignal): Promise<CatalogueFilm> {
  const bytes = await opts.readMetadata(parseCid(film.metadataCid), signal)
  let metadata: FilmMetadata
  try {
    metadata = parseFilmMetadata(bytes)
  } catch (err) {
    return { ...film, invalid: (err as Error).message }
  }
  return {
    ...film,
    title: metadata.title,
    metadataBytes: bytes.byteLength,
    contentCid: metadata.content.cid,
    contentBytes: metadata.content.sealedBytes,
    parts: await sizedParts(filmParts(film.metadataCid, metadata), bytes.byteLength, opts, signal)
  }
}
