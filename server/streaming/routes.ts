import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify'
import type { Library } from '../library/library.ts'
import type { FollowingView } from '../library/following.ts'
import { renditionParams, tokenIdParams as tokenParams } from '../library/routes.ts'
import { SeedError } from '../lib/errors.ts'
import { filmContentType, thumbnailSheetsOf, type PictureRole, type RenditionChoice } from '../library/film-metadata.ts'
import { sendPlaintext } from './send-film.ts'
import { hlsRoutes } from './hls-routes.ts'
import type { ServiceCounters } from '../health/service-counters.ts'
import type { FilmStreams } from '../library/film-streams.ts'

/** A film and one of its numbered files (a subtitle track, a thumbnail sheet, a picture subtitle stream's version). */
const numberedParams = {
  type: 'object',
  required: ['tokenId', 'index'],
  properties: { tokenId: tokenParams.properties.tokenId, index: { type: 'string', pattern: '^[0-9]{1,2}$' } }
}

/**
 * The decrypted film and its renditions (play: Range → sealed chunks → blocks → decrypt → 206) and their
 * HLS playlists, its poster, subtitles, chapters and seek thumbnails. Decrypted answers are `no-store`:
 * they stay off the TV's disk cache too.
 */
export async function streamingRoutes(
  app: FastifyInstance,
  opts: { following: Pick<FollowingView, 'library'>; counters: ServiceCounters; streams: FilmStreams }
): Promise<void> {
  const library = (): Library => {
    const current = opts.following.library()
    if (current === undefined) throw new SeedError('SEED_NOT_PAIRED', 'this Seed One is not paired yet: it has no library')
    return current
  }

  playRoutes(app, library, opts)
  await hlsRoutes(app, library)

  app.get<{ Params: { tokenId: string } }>('/api/films/:tokenId/poster', { schema: { params: tokenParams } }, async (request, reply) => {
    const poster = await library().poster(request.params.tokenId)
    return await reply.type('image/jpeg').header('cache-control', 'private, max-age=86400').send(Buffer.from(poster))
  })

  app.get<{ Params: { tokenId: string; index: string } }>(
    '/api/films/:tokenId/subtitles/:index',
    { schema: { params: numberedParams } },
    async (request, reply) => {
      const vtt = await library().subtitles(request.params.tokenId, Number(request.params.index))
      return await reply.type('text/vtt; charset=utf-8').header('cache-control', 'no-store').send(Buffer.from(vtt))
    }
  )

  app.get<{ Params: { tokenId: string } }>('/api/films/:tokenId/chapters', { schema: { params: tokenParams } }, async (request, reply) => {
    const vtt = await library().chapters(request.params.tokenId)
    return await reply.type('text/vtt; charset=utf-8').header('cache-control', 'no-store').send(Buffer.from(vtt))
  })

  app.get<{ Params: { tokenId: string; index: string } }>(
    '/api/films/:tokenId/thumbnails/:index',
    { schema: { params: numberedParams } },
    async (request, reply) => {
      const sheet = await library().thumbnails(request.params.tokenId, Number(request.params.index))
      return await reply.type('image/jpeg').header('cache-control', 'no-store').send(Buffer.from(sheet))
    }
  )

  // The address of the one sheet films had before sheets were split: still answered for such films.
  app.get<{ Params: { tokenId: string } }>(
    '/api/films/:tokenId/thumbnails',
    { schema: { params: tokenParams } },
    async (request, reply) => {
      const { tokenId } = request.params
      const metadata = (await library().film(tokenId)).metadata
      const sheets = metadata !== undefined ? (thumbnailSheetsOf(metadata)?.sheets.length ?? 0) : 0
      if (sheets !== 1)
        throw new SeedError(
          'SEED_FILM_ASSET_NOT_FOUND',
          `film ${tokenId} has ${sheets} thumbnail sheets: ask for each at /api/films/${tokenId}/thumbnails/:n`
        )
      return await reply.redirect(`/api/films/${tokenId}/thumbnails/0`, 308)
    }
  )
}

/** The film's stream and each rendition's: followed for a sale, decrypted, no-store, counted. */
function playRoutes(app: FastifyInstance, library: () => Library, opts: { counters: ServiceCounters; streams: FilmStreams }): void {
  /** Plays `rendition` of the film (its `content` without one). */
  const play = async (request: FastifyRequest<{ Params: { tokenId: string } }>, reply: FastifyReply, rendition?: RenditionChoice) => {
    // followed before the film is opened: a sale locking it from now on cuts this answer too
    const cut = opts.streams.follow(request.params.tokenId, reply.raw)
    const { film, metadata } = await library().openForPlayback(request.params.tokenId, rendition)
    reply.header('cache-control', 'no-store')
    if (request.method === 'GET') opts.counters.streamsServed++
    return await sendPlaintext(request, reply, film, rendition === undefined ? filmContentType(metadata) : 'video/mp4', cut)
  }

  app.route<{ Params: { tokenId: string } }>({
    method: ['GET', 'HEAD'],
    url: '/api/films/:tokenId/stream',
    schema: { params: tokenParams },
    handler: async (request, reply) => await play(request, reply)
  })

  app.route<{ Params: { tokenId: string; role: PictureRole } }>({
    method: ['GET', 'HEAD'],
    url: '/api/films/:tokenId/renditions/:role/stream',
    schema: { params: renditionParams },
    handler: async (request, reply) => await play(request, reply, request.params.role)
  })

  app.route<{ Params: { tokenId: string; index: string } }>({
    method: ['GET', 'HEAD'],
    url: '/api/films/:tokenId/renditions/subtitled/:index/stream',
    schema: { params: numberedParams },
    handler: async (request, reply) => await play(request, reply, { imageSubtitle: Number(request.params.index) })
  })
}
