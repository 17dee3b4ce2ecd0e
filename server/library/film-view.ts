import {
  CONTENT_CLASSES,
  findRendition,
  HDR_FORMATS,
  PICTURE_ROLES,
  sheetRows,
  thumbnailSheetsOf,
  type FilmMetadata,
  type PictureRole,
  type RenditionMetadata
} from './film-metadata.ts'
import { tierName, type FilmRecord, type FilmState } from './film-record.ts'
import type { PlaybackView } from './playback.ts'

/**
 * The film's copy on this box: `none` (nothing held yet, or released after a sale), `partial` (a pin
 * that stopped part way and will be retried), `pinning`, `ready` (pinned in full), `releasing` (sold:
 * still held until the grace period ends).
 */
export type LocalCopy = 'none' | 'partial' | 'pinning' | 'ready' | 'releasing'

/** One film of GET /api/library. */
export interface LibraryFilmView {
  tokenId: string
  title: string
  /** Absent when the publisher did not give it. */
  year?: number
  synopsis: string
  durationSeconds: number
  contentClass: FilmMetadata['contentClass']
  /** When `test` content stops being shown; null when it does not expire. */
  expiresAt: string | null
  quantity: string
  tier: { level: number; name: string }
  state: FilmState
  progress: number
  error?: string
  /** The stream can be played now: ready, or still pinning (blocks at the playback position are fetched first). */
  playable: boolean
  posterUrl: string
  streamUrl: string
  /**
   * The film's renditions, best first (original, sdr, low), for the TV to ask its engine about and play
   * the best it decodes; empty for films published before renditions (their streamUrl is the only one).
   * Not the subtitled ones: each imageSubtitles entry names its own.
   * `videoCodecs` and `audioCodecs` (the default track, AAC stereo) are RFC 6381 strings.
   */
  renditions: RenditionView[]
  /** The HLS master playlist of the fragmented renditions (`?roles=` those the TV plays); null without any. */
  hlsUrl: string | null
  /** `forced`: only for what the audio does not say; `default`: the track the film starts with (at most one). */
  subtitles: Array<{ language: string; label: string; url: string; forced: boolean; default: boolean }>
  /** The film's chapters in time order (empty without any), and their WebVTT chapters track (null without). */
  chapters: Array<{ startSeconds: number; endSeconds: number; title: string }>
  chaptersUrl: string | null
  /**
   * Subtitle streams of the source that are pictures (PGS…), which no TV engine draws; `url`: the stream
   * of the film's version with the stream burned into the picture (H.264 SDR, as the sdr rendition),
   * null for a stream publish made none for (past its cap, or a film published before them).
   */
  imageSubtitles: Array<{ language: string; label: string | null; forced: boolean; url: string | null }>
  /** The film's audio tracks, in stream order. */
  audio: FilmMetadata['content']['audio']
  /**
   * The seek-bar thumbnails: tile n shows the film at n * intervalSec; it is tile n mod (columns × rows)
   * of sheet floor(n / (columns × rows)), row-major, `columns` a row. A sheet's `rows` are those it fills
   * (the last may have fewer). The player loads only the sheet it shows.
   */
  thumbnails: {
    intervalSec: number
    columns: number
    rows: number
    count: number
    tileWidth: number
    tileHeight: number
    sheets: Array<{ url: string; rows: number }>
  } | null
  playback: PlaybackView | null
  storage: { local: LocalCopy; networkCopies: number | null }
}

/** One rendition of LibraryFilmView. */
export interface RenditionView {
  role: PictureRole
  url: string
  videoCodecs: string
  /** Null for a film without audio. */
  audioCodecs: string | null
  /** Audio tracks in the MP4 (a language each, and the original surround ones). */
  audioTracks: number
  width: number
  height: number
  hdr: RenditionMetadata['video']['hdr']
  /** Average bits a second. */
  bitrate: number
  /** Its fragments can be named as HLS byte ranges. */
  fragmented: boolean
}

/** The film's renditions as the TV sees them, in PICTURE_ROLES' order (best first). */
function presentRenditions(base: string, metadata: FilmMetadata | undefined): RenditionView[] {
  if (metadata === undefined) return []
  return PICTURE_ROLES.flatMap(role => {
    const rendition = findRendition(metadata, role)
    if (rendition === undefined) return []
    const { video } = rendition
    return [
      {
        role,
        url: `${base}/renditions/${role}/stream`,
        videoCodecs: video.codecs,
        audioCodecs: rendition.audio[0]?.codecs ?? null,
        audioTracks: rendition.audio.length,
        width: video.width,
        height: video.height,
        hdr: video.hdr,
        bitrate: rendition.bitrate,
        fragmented: rendition.fragmented
      }
    ]
  })
}

/** The film's picture subtitle streams, each with the stream of the version it is burned into (null without one). */
function presentImageSubtitles(base: string, metadata: FilmMetadata | undefined): LibraryFilmView['imageSubtitles'] {
  if (metadata === undefined) return []
  return (metadata.imageSubtitles ?? []).map((stream, index) => ({
    language: stream.language,
    label: stream.label ?? null,
    forced: stream.forced === true,
    url: findRendition(metadata, { imageSubtitle: index }) !== undefined ? `${base}/renditions/subtitled/${index}/stream` : null
  }))
}

/** What a view needs besides the record. */
export interface FilmViewExtras {
  playback: PlaybackView | undefined
  networkCopies: number | null
}

function localCopy(record: FilmRecord): LocalCopy {
  switch (record.state) {
    case 'ready':
      return 'ready'
    case 'pinning':
      return 'pinning'
    case 'locked':
      return record.unpinned === true ? 'none' : 'releasing'
    default:
      return record.progress > 0 ? 'partial' : 'none'
  }
}

/** The library as the UI sees it. */
export function presentFilm(record: FilmRecord, extras: FilmViewExtras): LibraryFilmView {
  const base = `/api/films/${record.tokenId}`
  const metadata = record.metadata
  const sheets = metadata !== undefined ? thumbnailSheetsOf(metadata) : undefined
  return {
    tokenId: record.tokenId,
    title: metadata?.title ?? `Film #${record.tokenId}`,
    ...(metadata?.year !== undefined ? { year: metadata.year } : {}),
    synopsis: metadata?.synopsis ?? '',
    durationSeconds: metadata?.durationSeconds ?? 0,
    contentClass: metadata?.contentClass ?? 'production',
    expiresAt: metadata?.expiresAt ?? null,
    quantity: record.quantity,
    tier: { level: record.tier, name: tierName(record.tier) },
    state: record.state,
    progress: record.progress,
    ...(record.error !== undefined ? { error: record.error } : {}),
    playable: metadata !== undefined && (record.state === 'ready' || record.state === 'pinning'),
    posterUrl: `${base}/poster`,
    streamUrl: `${base}/stream`,
    renditions: presentRenditions(base, metadata),
    hlsUrl: metadata?.renditions?.some(r => r.fragmented) === true ? `${base}/hls/master.m3u8` : null,
    subtitles: (metadata?.subtitles ?? []).map((track, index) => ({
      language: track.language,
      label: track.label,
      url: `${base}/subtitles/${index}`,
      forced: track.forced === true,
      default: track.default === true
    })),
    chapters: metadata?.chapters?.entries ?? [],
    chaptersUrl: metadata?.chapters !== undefined ? `${base}/chapters` : null,
    imageSubtitles: presentImageSubtitles(base, metadata),
    audio: metadata?.content.audio ?? [],
    thumbnails:
      sheets === undefined
        ? null
        : {
            intervalSec: sheets.intervalSeconds,
            columns: sheets.columns,
            rows: sheets.rows,
            count: sheets.count,
            tileWidth: sheets.tileWidth,
            tileHeight: sheets.tileHeight,
            sheets: sheets.sheets.map((_, n) => ({ url: `${base}/thumbnails/${n}`, rows: sheetRows(sheets, n) }))
          },
    playback: extras.playback ?? null,
    storage: { local: localCopy(record), networkCopies: extras.networkCopies }
  }
}

const integer = { type: 'integer' } as const
const number = { type: 'number' } as const
const string = { type: 'string' } as const
const nullable = (schema: object) => ({ anyOf: [schema, { type: 'null' }] })

/** JSON schema of one playback view (the answer of PUT /api/playback/:tokenId too). */
export const playbackViewSchema = {
  type: 'object',
  required: ['positionSec', 'durationSec', 'watched', 'resumable', 'updatedAt'],
  properties: { positionSec: number, durationSec: number, watched: { type: 'boolean' }, resumable: { type: 'boolean' }, updatedAt: string }
} as const

/** JSON schema of LibraryFilmView (the response schema of GET /api/library). */
export const filmViewSchema = {
  type: 'object',
  required: [
    'tokenId',
    'title',
    'synopsis',
    'durationSeconds',
    'contentClass',
    'expiresAt',
    'quantity',
    'tier',
    'state',
    'progress',
    'playable',
    'posterUrl',
    'streamUrl',
    'renditions',
    'hlsUrl',
    'subtitles',
    'chapters',
    'chaptersUrl',
    'imageSubtitles',
    'audio',
    'thumbnails',
    'playback',
    'storage'
  ],
  properties: {
    tokenId: string,
    title: string,
    year: integer,
    synopsis: string,
    durationSeconds: number,
    contentClass: { type: 'string', enum: CONTENT_CLASSES },
    expiresAt: nullable(string),
    quantity: string,
    tier: { type: 'object', required: ['level', 'name'], properties: { level: integer, name: string } },
    state: { type: 'string', enum: ['pending', 'pinning', 'ready', 'locked', 'error'] satisfies FilmState[] },
    progress: number,
    error: string,
    playable: { type: 'boolean' },
    posterUrl: string,
    streamUrl: string,
    renditions: {
      type: 'array',
      items: {
        type: 'object',
        required: ['role', 'url', 'videoCodecs', 'audioCodecs', 'audioTracks', 'width', 'height', 'hdr', 'bitrate', 'fragmented'],
        properties: {
          role: { type: 'string', enum: PICTURE_ROLES },
          url: string,
          videoCodecs: string,
          audioCodecs: nullable(string),
          audioTracks: integer,
          width: integer,
          height: integer,
          hdr: { type: 'string', enum: HDR_FORMATS },
          bitrate: number,
          fragmented: { type: 'boolean' }
        }
      }
    },
    hlsUrl: nullable(string),
    subtitles: {
      type: 'array',
      items: {
        type: 'object',
        required: ['language', 'label', 'url', 'forced', 'default'],
        properties: { language: string, label: string, url: string, forced: { type: 'boolean' }, default: { type: 'boolean' } }
      }
    },
    chapters: {
      type: 'array',
      items: {
        type: 'object',
        required: ['startSeconds', 'endSeconds', 'title'],
        properties: { startSeconds: number, endSeconds: number, title: string }
      }
    },
    chaptersUrl: nullable(string),
    imageSubtitles: {
      type: 'array',
      items: {
        type: 'object',
        required: ['language', 'label', 'forced', 'url'],
        properties: { language: string, label: nullable(string), forced: { type: 'boolean' }, url: nullable(string) }
      }
    },
    audio: {
      type: 'array',
      items: { type: 'object', required: ['codec', 'channels'], properties: { codec: string, channels: integer, language: string } }
    },
    thumbnails: nullable({
      type: 'object',
      required: ['intervalSec', 'columns', 'rows', 'count', 'tileWidth', 'tileHeight', 'sheets'],
      properties: {
        intervalSec: number,
        columns: integer,
        rows: integer,
        count: integer,
        tileWidth: integer,
        tileHeight: integer,
        sheets: { type: 'array', items: { type: 'object', required: ['url', 'rows'], properties: { url: string, rows: integer } } }
      }
    }),
    playback: nullable(playbackViewSchema),
    storage: {
      type: 'object',
      required: ['local', 'networkCopies'],
      properties: {
        local: { type: 'string', enum: ['none', 'partial', 'pinning', 'ready', 'releasing'] satisfies LocalCopy[] },
        networkCopies: nullable(integer)
      }
    }
  }
} as const
