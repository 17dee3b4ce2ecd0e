import type { CID } from 'multiformats/cid'
import type { StorageNode } from '../storage/helia-node.ts'
import { pinWithProgress, unpin } from '../storage/content.ts'
import type { FileBound } from '../wire/dag-bounds.ts'
import { ensureRoomFor } from '../storage/disk-space.ts'
import { MAX_SIDE_FILE_BYTES, metadataBound, metadataCidFromUri, parseCid, thumbnailSheetsOf, type FilmMetadata } from './film-metadata.ts'

const PROGRESS_SAVE_INTERVAL_MS = 1_000

/** Everything a film pins: its metadata, the artwork, subtitles, chapters and thumbnails, then the (large) content last. */
export function filmCids(metadataUri: string, metadata: FilmMetadata): CID[] {
  const sheets = thumbnailSheetsOf(metadata)?.sheets ?? []
  const chapters = metadata.chapters !== undefined ? [metadata.chapters.cid] : []
  const small = [metadata.poster.cid, ...metadata.subtitles.map(s => s.cid), ...chapters, ...sheets.map(s => s.cid)]
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
    ...(metadata.chapters !== undefined ? [side('chapters')] : []),
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

export interface PinFilmOptions {
  helia: StorageNode
  tokenId: string
  metadataUri: string
  metadata: FilmMetadata
  signal: AbortSignal
  /** A pin that receives no block for this long gives up. */
  stallMs: number
  /** Where the pins go: a stalled pin checks whether it stalled for want of space there. */
  dataDir: string
  /** Runs `fn` after `ms` (the library's timers, cleared when it closes). */
  later(ms: number, fn: () => void): void
  saveProgress(progress: number): void
}

/**
 * Pins every block of a film, reporting the content's progress at most once a second (and the
 * latest figure always lands: a pin that stalls shows how far it got).
 */
export async function pinFilm(opts: PinFilmOptions): Promise<void> {
  const { helia, tokenId, metadata } = opts
  const totalBytes = Math.max(1, metadata.content.sealedBytes)
  let lastSave = 0
  let latest = 0
  let saveDue = false
  const reportProgress = (bytes: number): void => {
    latest = Math.min(0.99, bytes / totalBytes)
    if (saveDue) return
    saveDue = true
    opts.later(Math.max(0, lastSave + PROGRESS_SAVE_INTERVAL_MS - Date.now()), () => {
      saveDue = false
      lastSave = Date.now()
      opts.saveProgress(latest)
    })
  }
  const cids = filmCids(opts.metadataUri, metadata)
  const bounds = filmBounds(tokenId, metadata)
  // the custodian holds every block of its films: asked over HTTP with the monitor's holders, or alone
  // without a monitor; playback reads of the film while it pins ask it too (their root is the content's)
  const unhint = helia.fetcher.hintHolder(cids, metadata.custodian.url)
  const stall = stallWatch(opts.stallMs)
  try {
    const signal = AbortSignal.any([opts.signal, stall.signal])
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
      `pinning stalled: no block arrived for ${Math.round(opts.stallMs / 1000)} s (${Math.floor(latest * 100)} % held); no reachable peer has the rest yet`
    )
  } finally {
    stall.close()
    unhint()
  }
}

/** Releases every pin of a film. */
export async function unpinFilm(helia: StorageNode, metadataUri: string, metadata: FilmMetadata): Promise<void> {
  for (const cid of filmCids(metadataUri, metadata)) await unpin(helia, cid)
}
