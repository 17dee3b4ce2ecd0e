import type { StorageNode } from '../storage/helia-node.ts'
import { pinWithProgress, unpin } from '../storage/content.ts'
import { ensureRoomFor } from '../storage/disk-space.ts'
import { metadataCidFromUri, parseCid, type FilmMetadata } from './film-metadata.ts'
import { filmParts, partBound, sealedBytesOf, type FilmPart } from './film-parts.ts'

const PROGRESS_SAVE_INTERVAL_MS = 1_000

/** Every part a film pins on the owner's box (film-parts.ts), from its token URI. */
export function ownedFilmParts(metadataUri: string, metadata: FilmMetadata): FilmPart[] {
  return filmParts(metadataCidFromUri(metadataUri).toString(), metadata)
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
 * Pins every part of a film, reporting the progress through its content and renditions at most once a
 * second (and the latest figure always lands: a pin that stalls shows how far it got).
 */
export async function pinFilm(opts: PinFilmOptions): Promise<void> {
  const { helia, tokenId, metadata } = opts
  const parts = ownedFilmParts(opts.metadataUri, metadata)
  const sealedBytes = sealedBytesOf(parts)
  const totalBytes = Math.max(1, sealedBytes)
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
  const cids = parts.map(part => parseCid(part.cid))
  const film = `"${metadata.title}" (film ${tokenId})`
  // the custodian holds every block of its films: asked over HTTP with the monitor's holders, or alone
  // without a monitor; playback reads of the film while it pins ask it too (their root is one of these)
  const unhint = helia.fetcher.hintHolder(cids, metadata.custodian.url)
  const stall = stallWatch(opts.stallMs)
  try {
    const signal = AbortSignal.any([opts.signal, stall.signal])
    // sealed bytes of the parts pinned before this one: the content and the renditions count for the progress
    let before = 0
    for (const [i, part] of parts.entries()) {
      await pinWithProgress(helia, cids[i], {
        bound: partBound(part, film),
        signal,
        onProgress: ({ bytes }) => {
          stall.touch()
          if (part.exact) reportProgress(before + bytes)
        }
      })
      if (part.exact) before += part.bytes
    }
  } catch (err) {
    if (!stall.signal.aborted) throw err
    // a block that could not be written for want of space is not reported by the fetch: it just never arrives
    await ensureRoomFor(opts.dataDir, sealedBytes * (1 - latest))
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
  for (const part of ownedFilmParts(metadataUri, metadata)) await unpin(helia, parseCid(part.cid))
}
