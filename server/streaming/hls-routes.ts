import { buffer } from 'node:stream/consumers'
import type { FastifyInstance } from 'fastify'
import type { Library } from '../library/library.ts'
import type { SealedFilm } from '../library/sealed-film.ts'
import { findRendition, PICTURE_ROLES, type PictureRole, type RenditionMetadata } from '../library/film-metadata.ts'
import { renditionParams, tokenIdParams } from '../library/routes.ts'
import { SeedError } from '../lib/errors.ts'
import { readFragmentIndex, type Mp4FragmentIndex } from '../lib/mp4-fragments.ts'
import { bandwidths, masterPlaylist, mediaPlaylist } from './hls-playlists.ts'

const ROLE = `(${PICTURE_ROLES.join('|')})`
const masterQuery = {
  type: 'object',
  properties: { roles: { type: 'string', pattern: `^${ROLE}(,${ROLE})*$` } },
  additionalProperties: false
}
const PLAYLIST_TYPE = 'application/vnd.apple.mpegurl'
/** Fragment indexes kept: a film's three picture renditions, on two TVs; a 2-hour film's is ~3600 fragments. */
const INDEXES_KEPT = 6

/**
 * HLS over the film's fragmented renditions (hls-playlists.ts): the master playlist (`?roles=` the
 * renditions the TV plays, comma-separated; all fragmented ones without it) and each rendition's media
 * playlist. The fragments are read from the sidx at the decrypted front of each rendition, and the
 * last few indexes kept in memory (nothing is stored on disk): a playback asks for the master playlist,
 * which reads every variant's, then for the variants it plays. Signed in, `no-store`, as the streams
 * they point into.
 */
export async function hlsRoutes(app: FastifyInstance, library: () => Library): Promise<void> {
  /** Indexes by rendition CID (a sealed file never changes), read once the film was opened for this request. */
  const indexes = new Map<string, Promise<Mp4FragmentIndex | null>>()
  const fragmentIndex = async (rendition: RenditionMetadata, film: SealedFilm): Promise<Mp4FragmentIndex | null> => {
    let index = indexes.get(rendition.cid)
    if (index === undefined) {
      index = readFragmentIndex(async (start, end) => await buffer(film.createPlaintextStream(start, end)), film.plaintextLength)
      if (indexes.size >= INDEXES_KEPT) indexes.delete(indexes.keys().next().value as string)
      indexes.set(rendition.cid, index)
      index.catch(() => indexes.delete(rendition.cid))
    }
    return await index
  }

  /** The rendition and where its fragments are; 404 for a role the film lacks or one that is not fragmented. */
  const fragmentsOf = async (tokenId: string, role: PictureRole): Promise<{ rendition: RenditionMetadata; index: Mp4FragmentIndex }> => {
    const { film, metadata } = await library().openForPlayback(tokenId, role)
    const rendition = findRendition(metadata, role) as RenditionMetadata // openForPlayback found it
    const index = rendition.fragmented ? await fragmentIndex(rendition, film) : null
    if (index === null || index.fragments.length === 0)
      throw new SeedError(
        'SEED_FILM_ASSET_NOT_FOUND',
        `film ${tokenId}'s ${role} rendition is not fragmented, so it has no HLS playlist: play /api/films/${tokenId}/renditions/${role}/stream`
      )
    return { rendition, index }
  }

  app.get<{ Params: { tokenId: string }; Querystring: { roles?: string } }>(
    '/api/films/:tokenId/hls/master.m3u8',
    { schema: { params: tokenIdParams, querystring: masterQuery } },
    async (request, reply) => {
      const { tokenId } = request.params
      const asked = request.query.roles?.split(',') as PictureRole[] | undefined
      const { metadata } = await library().openForPlayback(tokenId)
      // not the subtitled ones: a player switching by bandwidth would switch the subtitles on and off
      const fragmented = (metadata.renditions ?? []).filter(r => r.fragmented && r.role !== 'subtitled')
      const roles: string[] = asked ?? fragmented.map(r => r.role)
      if (roles.length === 0) throw new SeedError('SEED_FILM_ASSET_NOT_FOUND', `film ${tokenId} has no fragmented renditions to list`)
      const variants = []
      for (const role of PICTURE_ROLES.filter(r => roles.includes(r))) {
        const { rendition, index } = await fragmentsOf(tokenId, role)
        variants.push({ rendition, playlistUrl: `${role}.m3u8`, bandwidth: bandwidths(index) })
      }
      // a native player starts on the first variant: the lightest starts on any link, then steps up
      variants.sort((a, b) => a.bandwidth.peak - b.bandwidth.peak)
      return await reply.type(PLAYLIST_TYPE).header('cache-control', 'no-store').send(masterPlaylist(variants))
    }
  )

  app.get<{ Params: { tokenId: string; role: PictureRole } }>(
    '/api/films/:tokenId/hls/:role.m3u8',
    { schema: { params: renditionParams } },
    async (request, reply) => {
      const { tokenId, role } = request.params
      const { index } = await fragmentsOf(tokenId, role)
      const playlist = mediaPlaylist(index, `/api/films/${tokenId}/renditions/${role}/stream`)
      return await reply.type(PLAYLIST_TYPE).header('cache-control', 'no-store').send(playlist)
    }
  )
}
