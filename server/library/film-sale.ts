import type { FastifyBaseLogger } from 'fastify'
import type { StorageNode } from '../storage/helia-node.ts'
import type { FilmStreams } from './film-streams.ts'
import { SeedError } from '../lib/errors.ts'
import type { FilmRecord } from './film-record.ts'
import type { FilmRecords } from './film-records.ts'
import type { FilmKeys } from './film-keys.ts'
import type { FilmReading } from './film-reading.ts'
import { unpinFilm } from './film-pinning.ts'
import type { WorkQueue } from './work-queue.ts'

export interface SaleOptions {
  helia: StorageNode
  records: FilmRecords
  keys: FilmKeys
  reading: FilmReading
  /** The film responses open now: a sale stops a screen already playing the film. */
  streams: FilmStreams
  unpinGraceMs: number
  queue: Pick<WorkQueue, 'schedule' | 'later'>
  log: FastifyBaseLogger
}

/**
 * A sold film: playback locks at once (the key is erased and open streams are cut), and its pins
 * are released once the grace period has passed (the film's turn comes again then).
 */
export function createSaleLock(opts: SaleOptions): (record: FilmRecord) => Promise<void> {
  const { records, log } = opts
  return async record => {
    const tokenId = record.tokenId
    if (record.state !== 'locked') {
      await opts.keys.del(tokenId)
      opts.reading.drop(tokenId)
      record = await records.update(tokenId, { state: 'locked', lockedAt: new Date().toISOString() })
      // after the state: a stream asked for from now on is refused (FilmAccess.playable) or, if it got
      // past that check already, followed by now and cut here
      const cut = opts.streams.cut(
        tokenId,
        new SeedError('SEED_FILM_NOT_OWNED', `film ${tokenId} is no longer owned by this wallet: playback stopped`)
      )
      log.info({ tokenId, streamsCut: cut }, 'film sold: playback locked, open streams cut and key erased')
    }
    if (record.unpinned === true || record.metadata === undefined) return
    const releaseAt = Date.parse(record.lockedAt as string) + opts.unpinGraceMs
    if (Date.now() < releaseAt) {
      opts.queue.later(Math.min(releaseAt - Date.now(), 2 ** 31 - 1), () => opts.queue.schedule(tokenId))
      return
    }
    await unpinFilm(opts.helia, record.metadataUri, record.metadata)
    await records.update(tokenId, { unpinned: true })
    log.info({ tokenId }, 'sold film released from local storage')
  }
}
