import type { StorageNode } from '../storage/helia-node.ts'
import { metadataBound, metadataCidFromUri, parseFilmMetadata } from './film-metadata.ts'
import type { FilmRecord } from './film-record.ts'
import type { FilmRecords } from './film-records.ts'

/** How long a read of a film's metadata or of one of its small files waits for its blocks. */
export const METADATA_TIMEOUT_MS = 60_000

/**
 * Fetches a film's metadata once, outside the one-at-a-time queue: a film bought behind a large pin
 * is listed by its title and poster at once (and hidden at once when its class says so). Loads stop
 * when `signal` aborts.
 */
export function createMetadataLoads(
  helia: StorageNode,
  records: FilmRecords,
  signal: AbortSignal
): (record: FilmRecord) => Promise<FilmRecord> {
  const loads = new Map<string, Promise<FilmRecord>>()
  return record => {
    if (record.metadata !== undefined) return Promise.resolve(record)
    const { tokenId } = record
    let load = loads.get(tokenId)
    if (load === undefined) {
      load = helia.content
        .readBytes(metadataCidFromUri(record.metadataUri), {
          bound: metadataBound(`film ${tokenId}`),
          signal: AbortSignal.any([signal, AbortSignal.timeout(METADATA_TIMEOUT_MS)])
        })
        .then(async bytes => {
          const metadata = parseFilmMetadata(bytes)
          // the state and its error stay: they belong to the film's turn in the queue
          const next = await records.mutate(tokenId, saved => saved && { ...saved, metadata })
          if (next === undefined) throw new Error(`film ${tokenId} is not in the library`)
          return next
        })
        .finally(() => loads.delete(tokenId))
      loads.set(tokenId, load)
    }
    return load
  }
}
