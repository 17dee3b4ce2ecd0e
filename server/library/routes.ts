import type { FastifyInstance } from 'fastify'
import type { FollowingView } from './following.ts'
import type { NetworkCopies } from './network-copies.ts'
import { SeedError } from '../lib/errors.ts'
import { chainSyncSchema, type ChainSyncView } from '../chain/sync-status.ts'
import { PICTURE_ROLES } from './film-metadata.ts'
import { filmViewSchema, playbackViewSchema, presentFilm, type LibraryFilmView } from './film-view.ts'

export type { LibraryFilmView } from './film-view.ts'

/** GET /api/library. */
export interface LibraryView {
  films: LibraryFilmView[]
  /** Films with a position to resume from, the most recently watched first. */
  continueWatching: string[]
  /** Whether the list is in step with the chain (null before pairing): a chain RPC that fails leaves it as last synced. */
  chainSync: ChainSyncView | null
}

export const tokenIdParams = {
  type: 'object',
  required: ['tokenId'],
  properties: { tokenId: { type: 'string', pattern: '^[0-9]{1,78}$' } }
} as const

/** A film and one of its renditions by role (those there is one of). */
export const renditionParams = {
  type: 'object',
  required: ['tokenId', 'role'],
  properties: { tokenId: tokenIdParams.properties.tokenId, role: { type: 'string', enum: PICTURE_ROLES } }
} as const

/** A film can be at most a few days long; the bound only keeps nonsense out. */
const MAX_SECONDS = 7 * 24 * 3600

export async function libraryRoutes(app: FastifyInstance, opts: { following: FollowingView; networkCopies: NetworkCopies }): Promise<void> {
  app.get(
    '/api/library',
    {
      schema: {
        response: {
          200: {
            type: 'object',
            required: ['films', 'continueWatching', 'chainSync'],
            properties: {
              films: { type: 'array', items: filmViewSchema },
              continueWatching: { type: 'array', items: { type: 'string' } },
              chainSync: { anyOf: [chainSyncSchema, { type: 'null' }] }
            }
          }
        }
      }
    },
    async (): Promise<LibraryView> => {
      const library = opts.following.library()
      if (library === undefined) return { films: [], continueWatching: [], chainSync: null }
      const [records, playback] = await Promise.all([library.shown(), opts.following.playback.all()])
      records.sort(
        (a, b) => (a.metadata?.title ?? '').localeCompare(b.metadata?.title ?? '') || Number(BigInt(a.tokenId) - BigInt(b.tokenId))
      )
      const films = records.map(record =>
        presentFilm(record, {
          playback: playback.get(record.tokenId),
          networkCopies: record.metadata === undefined ? null : opts.networkCopies.count(record.metadata.content.cid)
        })
      )
      const continueWatching = films
        .filter(film => film.playback?.resumable === true && film.state !== 'locked')
        .sort((a, b) => Date.parse(b.playback?.updatedAt ?? '') - Date.parse(a.playback?.updatedAt ?? ''))
        .map(film => film.tokenId)
      return { films, continueWatching, chainSync: opts.following.chainSync() }
    }
  )

  app.put<{ Params: { tokenId: string }; Body: { positionSec: number; durationSec: number } }>(
    '/api/playback/:tokenId',
    {
      onRequest: app.requireOwner,
      schema: {
        params: tokenIdParams,
        body: {
          type: 'object',
          additionalProperties: false,
          required: ['positionSec', 'durationSec'],
          properties: {
            positionSec: { type: 'number', minimum: 0, maximum: MAX_SECONDS },
            durationSec: { type: 'number', exclusiveMinimum: 0, maximum: MAX_SECONDS }
          }
        },
        response: { 200: playbackViewSchema }
      }
    },
    async request => {
      const library = opts.following.library()
      if (library === undefined) throw new SeedError('SEED_NOT_PAIRED', 'this Seed One is not paired yet: it has no library')
      const { positionSec, durationSec } = request.body
      if (positionSec > durationSec)
        throw new SeedError('SEED_POSITION_PAST_END', `positionSec ${positionSec} is past durationSec ${durationSec}`)
      await library.film(request.params.tokenId)
      return await opts.following.playback.record(request.params.tokenId, { positionSec, durationSec })
    }
  )
}
