import type { FastifyInstance } from 'fastify'
import type { Library } from './library.ts'
import type { FilmMetadata } from './film-metadata.ts'
import { tierName, type FilmRecord, type FilmState } from './film-record.ts'

/** One film of GET /api/library. */
export interface LibraryFilmView {
  tokenId: string
  title: string
  synopsis: string
  durationSeconds: number
  contentClass: FilmMetadata['contentClass']
  quantity: string
  tier: { level: number; name: string }
  state: FilmState
  progress: number
  error?: string
  posterUrl: string
  streamUrl: string
  subtitles: Array<{ language: string; label: string; url: string }>
}

/** The library as the UI sees it. */
export function presentFilm(record: FilmRecord): LibraryFilmView {
  const base = `/api/films/${record.tokenId}`
  const metadata = record.metadata
  return {
    tokenId: record.tokenId,
    title: metadata?.title ?? `Film #${record.tokenId}`,
    synopsis: metadata?.synopsis ?? '',
    durationSeconds: metadata?.durationSeconds ?? 0,
    contentClass: metadata?.contentClass ?? 'production',
    quantity: record.quantity,
    tier: { level: record.tier, name: tierName(record.tier) },
    state: record.state,
    progress: record.progress,
    ...(record.error !== undefined ? { error: record.error } : {}),
    posterUrl: `${base}/poster`,
    streamUrl: `${base}/stream`,
    subtitles: (metadata?.subtitles ?? []).map((track, index) => ({
      language: track.language,
      label: track.label,
      url: `${base}/subtitles/${index}`
    }))
  }
}

export async function libraryRoutes(app: FastifyInstance, opts: { library: () => Library | undefined }): Promise<void> {
  app.get('/api/library', async () => {
    const library = opts.library()
    if (library === undefined) return { films: [] }
    const films = await library.list()
    films.sort((a, b) => (a.metadata?.title ?? '').localeCompare(b.metadata?.title ?? '') || Number(BigInt(a.tokenId) - BigInt(b.tokenId)))
    return { films: films.map(presentFilm) }
  })
}
