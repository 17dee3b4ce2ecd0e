// Every file of a film, from its metadata: what the owner's box pins, what storage nodes replicate and
// what the monitor counts copies of. One list, so no part is pinned by one and forgotten by another.
import type { FileBound } from '../wire/dag-bounds.ts'
import { MAX_METADATA_BYTES, MAX_SIDE_FILE_BYTES, thumbnailSheetsOf, type FilmMetadata, type RenditionMetadata } from './film-metadata.ts'

export type PartKind = 'metadata' | 'poster' | 'subtitles' | 'chapters' | 'thumbnails' | 'content' | 'rendition'

/** One file of a film. */
export interface FilmPart {
  kind: PartKind
  cid: string
  /** What it is, as the dashboard and error messages say it: "poster", "English subtitles", "HDR original". */
  name: string
  /** Most bytes its file may hold; with `exact`, the bytes it holds (the sealedBytes the metadata declares). */
  bytes: number
  exact: boolean
}

/** A language tag as its English name ("eng" → "English"); the tag itself where it names none. */
function languageName(tag: string): string {
  if (tag === 'und') return 'unknown language'
  try {
    return new Intl.DisplayNames(['en'], { type: 'language' }).of(tag) ?? tag
  } catch {
    return tag // not a well-formed tag: Intl refuses it
  }
}

/** How the dashboard and errors name a rendition other than the content (the `sdr` one is the content). */
function renditionName(rendition: RenditionMetadata): string {
  if (rendition.role === 'low') return 'low-bitrate'
  if (rendition.burnedIn !== undefined)
    return `${rendition.burnedIn.label ?? languageName(rendition.burnedIn.language)} picture subtitles version`
  return rendition.video.hdr === 'sdr' ? 'HEVC original' : 'HDR original'
}

/**
 * Every part of a film, each CID once: the small ones first (metadata, poster, subtitles, chapters,
 * thumbnail sheets), then the content, which every TV plays (a film plays as soon as it is held),
 * then the other renditions, smallest first. Films published before renditions have none.
 */
export function filmParts(metadataCid: string, metadata: FilmMetadata): FilmPart[] {
  const side = (kind: PartKind, cid: string, name: string): FilmPart => ({ kind, cid, name, bytes: MAX_SIDE_FILE_BYTES, exact: false })
  const sealed = (kind: PartKind, cid: string, name: string, bytes: number): FilmPart => ({ kind, cid, name, bytes, exact: true })
  const renditions = (metadata.renditions ?? []).filter(r => r.cid !== metadata.content.cid).sort((a, b) => a.sealedBytes - b.sealedBytes)
  const listed: FilmPart[] = [
    { kind: 'metadata', cid: metadataCid, name: 'metadata', bytes: MAX_METADATA_BYTES, exact: false },
    side('poster', metadata.poster.cid, 'poster'),
    ...metadata.subtitles.map(track => side('subtitles', track.cid, `${track.label} subtitles`)),
    ...(metadata.chapters !== undefined ? [side('chapters', metadata.chapters.cid, 'chapters')] : []),
    ...(thumbnailSheetsOf(metadata)?.sheets ?? []).map((sheet, n) => side('thumbnails', sheet.cid, `thumbnail sheet ${n}`)),
    sealed('content', metadata.content.cid, 'content', metadata.content.sealedBytes),
    ...renditions.map(r => sealed('rendition', r.cid, renditionName(r), r.sealedBytes))
  ]
  const seen = new Set<string>()
  return listed.filter(part => !seen.has(part.cid) && seen.add(part.cid))
}

/** The bytes of a film's content and renditions: the room its pins need (each side file is a few hundred KiB). */
export function sealedBytesOf(parts: FilmPart[]): number {
  return parts.reduce((sum, part) => sum + (part.exact ? part.bytes : 0), 0)
}

/** What a walk of the part's DAG is held to, named for the film it belongs to (`film`: how errors name it). */
export function partBound(part: FilmPart, film: string): FileBound {
  return { what: `${film}'s ${part.name}`, bytes: part.bytes, exact: part.exact }
}
