import type { FastifyInstance } from 'fastify'
import type { Library } from './library.ts'
import { tierName, type FilmRecord } from './film-record.ts'

/** The library as the UI sees it. */
export function presentFilm(record: FilmRecord): object {
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
