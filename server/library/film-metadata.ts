import { Ajv } from 'ajv'
import { CID } from 'multiformats/cid'
import { MAX_CHUNK_SIZE, MIN_CHUNK_SIZE, sealedLength, type CipherName } from '../sealing/format.ts'
import type { FileBound } from '../wire/dag-bounds.ts'
import { peerOrigin } from '../lib/peer-url.ts'

/** How a publisher classifies a film (the platform's content classes). */
export const CONTENT_CLASSES = ['production', 'test', 'demo', 'development'] as const
export type ContentClass = (typeof CONTENT_CLASSES)[number]

// The schema lists the ciphers at run time; the `satisfies` keeps the list in step with CipherName.
const CIPHERS = Object.keys({ 'aes-256-gcm': true, 'chacha20-poly1305': true } satisfies Record<CipherName, true>)

/** What a publisher adds to IPFS for each film; its CID is the film's on-chain metadata URI. */
export interface FilmMetadata {
  schema: 'seed-one/film-metadata/v1'
  title: string
  /** Year of release, for the Film screen. */
  year?: number
  synopsis: string
  durationSeconds: number
  contentClass: ContentClass
  /** The sealed MP4. */
  content: {
    cid: string
    sealedBytes: number
    plaintextBytes: number
    mimeType: string
    sealing: { format: 'seed-one/sealed/v1'; cipher: CipherName; chunkSize: number }
    video?: { codec: string; width: number; height: number }
    audio: Array<{ codec: string; channels: number; language?: string }>
  }
  /** Public artwork: shown before the film's key is held. */
  poster: { cid: string; mimeType: 'image/jpeg' }
  /** WebVTT files, sealed with the film's key like the film itself. */
  subtitles: Array<SubtitleTrackMetadata>
  /**
   * The source's chapters, in time order, and the same as a WebVTT chapters track (one cue a chapter,
   * its title the cue's text) sealed with the film's key. Absent for a film without chapters.
   */
  chapters?: { cid: string; entries: ChapterMetadata[] }
  /**
   * Subtitle streams of the source that are pictures (PGS, DVD, DVB): not made into text tracks, named
   * here so a screen can say the film has them; `subtitled` renditions burn some of them into the
   * picture. Absent when there are none.
   */
  imageSubtitles?: Array<{ language: string; codec: string; label?: string; forced?: boolean }>
  /**
   * The seek-bar thumbnails: JPEG sheets of at most MAX_SHEET_COLUMNS × MAX_SHEET_ROWS tiles, so a TV
   * decodes one small image, not the whole film's. Sealed with the film's key like the subtitles: they
   * are the whole film in pictures, so only holders see them. Absent for films without video.
   */
  thumbnailSheets?: ThumbnailSheetsMetadata
  /**
   * Films published before the sheets: one grid of every tile (tens of MB decoded for a long film). Read
   * still (their metadata is on IPFS under the CID the chain names: it cannot be rewritten); see
   * thumbnailSheetsOf.
   */
  thumbnails?: ThumbnailSheetMetadata
  /**
   * The film's renditions, one of each role but `subtitled` (one a picture subtitle stream burned in,
   * at most MAX_SUBTITLED_RENDITIONS), for a TV to choose the best it can show (absent in films
   * published before them: their `content` is the only one). All are sealed like `content` (its
   * sealing, and its key: custody keeps the key under content.cid); the `sdr` one is `content` itself.
   */
  renditions?: RenditionMetadata[]
  /** When `test` content stops being shown anywhere (ISO 8601). */
  expiresAt?: string
  /** Where devices ask for the film's key. */
  custodian: { url: string; peerId: string }
}

/** One subtitle track. */
export interface SubtitleTrackMetadata {
  cid: string
  language: string
  label: string
  /** Subtitles only for what the audio does not say in the film's language (signs, a foreign line): shown unless the viewer picks another track. */
  forced?: boolean
  /** The track the film starts with (the source's default disposition, or the first file given to publish); at most one. */
  default?: boolean
}

/** One chapter: seconds from the film's start. */
export interface ChapterMetadata {
  startSeconds: number
  endSeconds: number
  title: string
}

/** Most chapters a film lists, and the longest title (characters): they bound the metadata's size. */
export const MAX_CHAPTERS = 128
export const MAX_CHAPTER_TITLE = 100

/** How a rendition's pictures are coded for light: PQ (HDR10), HLG, or standard dynamic range. */
export const HDR_FORMATS = ['sdr', 'pq', 'hlg'] as const
/**
 * original: the source's own HEVC video (HDR kept), for TVs that decode it; sdr: the film as `content`
 * serves it (H.264 BT.709, HDR tone-mapped); low: H.264 SDR at most 480 lines and ~1.3 Mbit/s, for weak
 * links. A film has at most one of each: the versions of its picture a TV chooses among.
 */
export const PICTURE_ROLES = ['original', 'sdr', 'low'] as const
export type PictureRole = (typeof PICTURE_ROLES)[number]
/** The picture roles, and `subtitled`: the sdr film with one picture subtitle stream (PGS…) burned in. */
export const RENDITION_ROLES = [...PICTURE_ROLES, 'subtitled'] as const
export type RenditionRole = (typeof RENDITION_ROLES)[number]
/**
 * Most `subtitled` renditions a film has: each is a whole H.264 encode of the film, as long to make and
 * as large to store and replicate as the sdr one (measured on a 10 s 1080p PQ source with a PGS track,
 * 2 loaded cores, two rounds: 1.13–1.19× the sdr encode's time, the HEVC copy included, and 1.03× its
 * bytes), so publish makes them for two streams (forced ones first, then the default): a film's forced
 * track and its main language; the others stay unshown.
 */
export const MAX_SUBTITLED_RENDITIONS = 2

/** A rendition as the routes name it: one of a picture role, or the subtitled one of picture subtitle stream `imageSubtitle`. */
export type RenditionChoice = PictureRole | { imageSubtitle: number }

/** The film's rendition `choice`; undefined where it has none. */
export function findRendition(metadata: FilmMetadata, choice: RenditionChoice): RenditionMetadata | undefined {
  const renditions = metadata.renditions ?? []
  if (typeof choice === 'string') return renditions.find(r => r.role === choice)
  return renditions.find(r => r.role === 'subtitled' && r.burnedIn?.imageSubtitle === choice.imageSubtitle)
}

/** Which picture subtitle stream a `subtitled` rendition carries: entry `imageSubtitle` of the film's imageSubtitles. */
export interface BurnedInSubtitle {
  imageSubtitle: number
  language: string
  label?: string
}

/** One sealed MP4 of the film, described for a TV's canPlayType or MediaCapabilities.decodingInfo. */
export interface RenditionMetadata {
  role: RenditionRole
  /** A `subtitled` rendition's subtitle stream; only they have one. */
  burnedIn?: BurnedInSubtitle
  cid: string
  sealedBytes: number
  plaintextBytes: number
  mimeType: 'video/mp4'
  /** Fragmented MP4 (a moof a keyframe, a sidx at the front): its fragments can be served as HLS byte ranges. */
  fragmented: boolean
  /** RFC 6381 codecs of every stream, video first, comma-separated: `video/mp4; codecs="…"` as an engine is asked. */
  codecs: string
  /** Average bits a second over the film (plaintext bytes × 8 / duration). */
  bitrate: number
  video: { codecs: string; width: number; height: number; hdr: (typeof HDR_FORMATS)[number] }
  /** In the MP4's order; the first is the default track. */
  audio: Array<{ codecs: string; channels: number; language?: string }>
}

/**
 * The grid of a film's thumbnail sheets, as the publisher makes them and the metadata describes them.
 * Tile n shows the film at n * intervalSeconds; it is tile n mod (columns × rows) of sheet
 * floor(n / (columns × rows)), left to right then top to bottom. Every sheet but the last is full; the
 * last has the rows its tiles fill, its last row may end in padding.
 */
export interface ThumbnailGrid {
  /** Seconds of film between consecutive tiles. */
  intervalSeconds: number
  /** Tiles a row. */
  columns: number
  /** Rows of a full sheet. */
  rows: number
  /** Tiles that hold a frame, over all sheets. */
  count: number
  tileWidth: number
  tileHeight: number
}

/** The sheets of a film, in order. */
export interface ThumbnailSheetsMetadata extends ThumbnailGrid {
  mimeType: 'image/jpeg'
  sheets: Array<{ cid: string }>
}

/** The single sheet of older metadata: one grid of all `count` tiles. */
export interface ThumbnailSheetMetadata extends ThumbnailGrid {
  cid: string
  mimeType: 'image/jpeg'
}

/** A sheet's most tiles a row and rows: 100 tiles of 160×90 decode to 1600×900×4 bytes, 5.5 MiB. */
export const MAX_SHEET_COLUMNS = 10
export const MAX_SHEET_ROWS = 10
/** Most sheets a film lists: 6400 tiles, a frame every 10 s for 17 hours (longer films space them wider). */
export const MAX_THUMBNAIL_SHEETS = 64

/** How many sheets a grid of `count` tiles takes. */
export function sheetCount(grid: ThumbnailGrid): number {
  return Math.ceil(grid.count / (grid.columns * grid.rows))
}

/** The rows sheet `index` of the grid fills: `rows`, but fewer in a last sheet that is not full. */
export function sheetRows(grid: ThumbnailGrid, index: number): number {
  const perSheet = grid.columns * grid.rows
  return Math.ceil(Math.min(perSheet, grid.count - index * perSheet) / grid.columns)
}

/**
 * A film's thumbnail sheets whichever way its metadata lists them: older metadata's single sheet is a
 * grid of one sheet (its rows hold all its tiles). Undefined for a film without thumbnails.
 */
export function thumbnailSheetsOf(metadata: FilmMetadata): ThumbnailSheetsMetadata | undefined {
  if (metadata.thumbnailSheets !== undefined) return metadata.thumbnailSheets
  if (metadata.thumbnails === undefined) return undefined
  const { cid, ...grid } = metadata.thumbnails
  return { ...grid, sheets: [{ cid }] }
}

/** The video types a film is served as; the box publishes MP4 (H.264/AAC, index at the front). */
const VIDEO_TYPES = new Set(['video/mp4', 'video/webm', 'video/ogg', 'video/quicktime', 'video/x-matroska'])

/**
 * The Content-Type a film is sent with: its metadata's `mimeType` when that is a video type, else
 * video/mp4. The metadata is the creator's word; a "film" sent as text/html would run script on the
 * box's origin.
 */
export function filmContentType(metadata: FilmMetadata): string {
  const type = metadata.content.mimeType.toLowerCase()
  return VIDEO_TYPES.has(type) ? type : 'video/mp4'
}

export class MetadataError extends Error {
  override name = 'MetadataError'
}

/**
 * Most bytes of metadata JSON read. The schema's longest strings and lists, written by JSON.stringify
 * (UTF-8, up to 4 bytes a character), come to about 200 KiB (the synopsis 20 KiB, 64 subtitle tracks
 * 52 KiB, 64 thumbnail sheets 14 KiB, 128 chapters 65 KiB, 32 image subtitle streams 21 KiB, 5 renditions
 * 25 KiB); a real film's is a few KiB.
 */
export const MAX_METADATA_BYTES = 208 * 1024
/**
 * Most bytes of a film's poster, subtitle track or thumbnail sheet, each read whole into memory to be
 * served: a poster is some hundred KiB, a track of subtitles less, a thumbnail sheet (100 tiles 160 px
 * wide) some hundred KiB, older metadata's single sheet of a 3-hour film a few MiB; 32 MiB leaves room
 * for any honest one.
 */
export const MAX_SIDE_FILE_BYTES = 32 * 1024 * 1024

/** The bound of a film's metadata JSON, as a DAG walk or a read takes it (dag-bounds.ts). */
export const metadataBound = (what: string): FileBound => ({ what: `${what}'s metadata`, bytes: MAX_METADATA_BYTES })

const cidString = { type: 'string', minLength: 8, maxLength: 200 }
const GRID_FIELDS = ['intervalSeconds', 'columns', 'rows', 'count', 'tileWidth', 'tileHeight'] satisfies Array<keyof ThumbnailGrid>
/** A thumbnail grid's fields; each shape bounds columns and rows itself. */
const gridProperties = {
  intervalSeconds: { type: 'number', exclusiveMinimum: 0 },
  count: { type: 'integer', minimum: 1 },
  tileWidth: { type: 'integer', minimum: 1, maximum: 4096 },
  tileHeight: { type: 'integer', minimum: 1, maximum: 4096 }
}
/** One RFC 6381 codecs string or a comma-separated list of them: ASCII letters, digits and dots. */
const codecsString = { type: 'string', pattern: '^[A-Za-z0-9.-]+(,[A-Za-z0-9.-]+)*$', maxLength: 60 }
/** A rendition's language tag: ISO 639 (and BCP 47) letters, digits and hyphens, so it stays ASCII. */
const languageTag = { type: 'string', pattern: '^[A-Za-z0-9-]+$', maxLength: 35 }
/** An ISO 8601 date and time with its offset, as Date.prototype.toISOString writes it (or with +hh:mm). */
const ISO_TIME = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2}(\.\d{1,9})?)?(Z|[+-]\d{2}:\d{2})$/
const schema = {
  type: 'object',
  required: ['schema', 'title', 'synopsis', 'durationSeconds', 'contentClass', 'content', 'poster', 'subtitles', 'custodian'],
  properties: {
    schema: { const: 'seed-one/film-metadata/v1' },
    title: { type: 'string', minLength: 1, maxLength: 300 },
    year: { type: 'integer', minimum: 1870, maximum: 9999 },
    synopsis: { type: 'string', maxLength: 5000 },
    durationSeconds: { type: 'number', minimum: 0 },
    contentClass: { enum: CONTENT_CLASSES },
    content: {
      type: 'object',
      required: ['cid', 'sealedBytes', 'plaintextBytes', 'mimeType', 'sealing', 'audio'],
      properties: {
        cid: cidString,
        sealedBytes: { type: 'integer', minimum: 0 },
        plaintextBytes: { type: 'integer', minimum: 0 },
        mimeType: { type: 'string', maxLength: 100 },
        sealing: {
          type: 'object',
          required: ['format', 'cipher', 'chunkSize'],
          properties: {
            format: { const: 'seed-one/sealed/v1' },
            cipher: { enum: CIPHERS },
            chunkSize: { type: 'integer', minimum: MIN_CHUNK_SIZE, maximum: MAX_CHUNK_SIZE }
          }
        },
        audio: {
          type: 'array',
          maxItems: 32,
          items: {
            type: 'object',
            required: ['codec', 'channels'],
            properties: {
              codec: { type: 'string', maxLength: 50 },
              channels: { type: 'integer', minimum: 0, maximum: 64 },
              language: { type: 'string', maxLength: 35 }
            }
          }
        }
      }
    },
    poster: { type: 'object', required: ['cid', 'mimeType'], properties: { cid: cidString, mimeType: { const: 'image/jpeg' } } },
    subtitles: {
      type: 'array',
      maxItems: 64,
      items: {
        type: 'object',
        required: ['cid', 'language', 'label'],
        properties: {
          cid: cidString,
          language: { type: 'string', maxLength: 35 },
          label: { type: 'string', maxLength: 100 },
          forced: { type: 'boolean' },
          default: { type: 'boolean' }
        }
      }
    },
    chapters: {
      type: 'object',
      required: ['cid', 'entries'],
      properties: {
        cid: cidString,
        entries: {
          type: 'array',
          minItems: 1,
          maxItems: MAX_CHAPTERS,
          items: {
            type: 'object',
            required: ['startSeconds', 'endSeconds', 'title'],
            properties: {
              startSeconds: { type: 'number', minimum: 0 },
              endSeconds: { type: 'number', minimum: 0 },
              title: { type: 'string', maxLength: MAX_CHAPTER_TITLE }
            }
          }
        }
      }
    },
    imageSubtitles: {
      type: 'array',
      maxItems: 32,
      items: {
        type: 'object',
        required: ['language', 'codec'],
        properties: {
          language: { type: 'string', maxLength: 35 },
          codec: { type: 'string', maxLength: 50 },
          label: { type: 'string', maxLength: 100 },
          forced: { type: 'boolean' }
        }
      }
    },
    thumbnailSheets: {
      type: 'object',
      required: ['sheets', 'mimeType', ...GRID_FIELDS],
      properties: {
        ...gridProperties,
        columns: { type: 'integer', minimum: 1, maximum: MAX_SHEET_COLUMNS },
        rows: { type: 'integer', minimum: 1, maximum: MAX_SHEET_ROWS },
        mimeType: { const: 'image/jpeg' },
        sheets: {
          type: 'array',
          minItems: 1,
          maxItems: MAX_THUMBNAIL_SHEETS,
          items: { type: 'object', required: ['cid'], properties: { cid: cidString } }
        }
      }
    },
    thumbnails: {
      type: 'object',
      required: ['cid', 'mimeType', ...GRID_FIELDS],
      properties: {
        ...gridProperties,
        columns: { type: 'integer', minimum: 1, maximum: 1000 },
        rows: { type: 'integer', minimum: 1, maximum: 100_000 },
        cid: cidString,
        mimeType: { const: 'image/jpeg' }
      }
    },
    renditions: {
      type: 'array',
      maxItems: PICTURE_ROLES.length + MAX_SUBTITLED_RENDITIONS,
      items: {
        type: 'object',
        required: ['role', 'cid', 'sealedBytes', 'plaintextBytes', 'mimeType', 'fragmented', 'codecs', 'bitrate', 'video', 'audio'],
        properties: {
          role: { enum: RENDITION_ROLES },
          burnedIn: {
            type: 'object',
            required: ['imageSubtitle', 'language'],
            properties: {
              imageSubtitle: { type: 'integer', minimum: 0, maximum: 31 },
              language: { type: 'string', maxLength: 35 },
              label: { type: 'string', maxLength: 100 }
            }
          },
          cid: cidString,
          sealedBytes: { type: 'integer', minimum: 0 },
          plaintextBytes: { type: 'integer', minimum: 0 },
          mimeType: { const: 'video/mp4' },
          fragmented: { type: 'boolean' },
          codecs: { ...codecsString, maxLength: 17 * 60 },
          bitrate: { type: 'integer', minimum: 0 },
          video: {
            type: 'object',
            required: ['codecs', 'width', 'height', 'hdr'],
            properties: {
              codecs: codecsString,
              width: { type: 'integer', minimum: 1, maximum: 16384 },
              height: { type: 'integer', minimum: 1, maximum: 16384 },
              hdr: { enum: HDR_FORMATS }
            }
          },
          audio: {
            type: 'array',
            maxItems: 16,
            items: {
              type: 'object',
              required: ['codecs', 'channels'],
              properties: { codecs: codecsString, channels: { type: 'integer', minimum: 0, maximum: 64 }, language: languageTag }
            }
          }
        }
      }
    },
    expiresAt: { type: 'string', pattern: ISO_TIME.source, maxLength: 40 },
    custodian: {
      type: 'object',
      required: ['url', 'peerId'],
      properties: { url: { type: 'string', maxLength: 500 }, peerId: { type: 'string', maxLength: 100 } }
    }
  }
}

const validate = new Ajv({ allErrors: false }).compile<FilmMetadata>(schema)

export function parseFilmMetadata(bytes: Uint8Array): FilmMetadata {
  let value: unknown
  try {
    value = JSON.parse(new TextDecoder().decode(bytes))
  } catch {
    throw new MetadataError('film metadata is not JSON')
  }
  if (!validate(value)) {
    const first = validate.errors?.[0]
    throw new MetadataError(`film metadata is invalid: ${first?.instancePath ?? ''} ${first?.message ?? ''}`.trim())
  }
  for (const cid of [value.content.cid, value.poster.cid, ...value.subtitles.map(s => s.cid)]) parseCid(cid)
  if (value.chapters !== undefined) {
    parseCid(value.chapters.cid)
    if (value.chapters.entries.some(chapter => !(chapter.endSeconds > chapter.startSeconds)))
      throw new MetadataError('film metadata is invalid: /chapters/entries has a chapter that does not end after it starts')
  }
  // the sealed header declares the same length (sealed-film.ts checks it against the DAG): a pin stops there
  const { plaintextBytes, sealedBytes, sealing } = value.content
  if (sealedBytes !== sealedLength(plaintextBytes, sealing.chunkSize))
    throw new MetadataError(
      `film metadata is invalid: /content/sealedBytes is not the sealed size of ${plaintextBytes} bytes in chunks of ${sealing.chunkSize}`
    )
  if (value.thumbnailSheets !== undefined) {
    for (const sheet of value.thumbnailSheets.sheets) parseCid(sheet.cid)
    if (value.thumbnailSheets.sheets.length !== sheetCount(value.thumbnailSheets))
      throw new MetadataError(
        `film metadata is invalid: /thumbnailSheets lists ${value.thumbnailSheets.sheets.length} sheets where its ${value.thumbnailSheets.count} tiles fill ${sheetCount(value.thumbnailSheets)}`
      )
  }
  if (value.thumbnails !== undefined) {
    parseCid(value.thumbnails.cid)
    if (value.thumbnails.count > value.thumbnails.columns * value.thumbnails.rows)
      throw new MetadataError('film metadata is invalid: /thumbnails has more tiles than its grid holds')
  }
  if (value.renditions !== undefined) checkRenditions(value)
  if (value.expiresAt !== undefined) parseExpiry(value.expiresAt)
  try {
    peerOrigin(value.custodian.url)
  } catch (err) {
    throw new MetadataError(`film metadata is invalid: /custodian/url: ${(err as Error).message}`)
  }
  return value
}

/**
 * One rendition of each picture role, `subtitled` ones each burning a different picture subtitle stream
 * in, each as long as its sealing says, the `sdr` one being `content`.
 */
function checkRenditions(metadata: FilmMetadata): void {
  const renditions = metadata.renditions ?? []
  for (const [n, rendition] of renditions.entries()) {
    const where = `film metadata is invalid: /renditions/${n}`
    parseCid(rendition.cid)
    if (rendition.role === 'subtitled') checkBurnedIn(metadata, n)
    else if (rendition.burnedIn !== undefined) throw new MetadataError(`${where}: only a subtitled rendition has burnedIn`)
    else if (renditions.findIndex(r => r.role === rendition.role) !== n)
      throw new MetadataError(`${where} is a second ${rendition.role} rendition`)
    if (rendition.sealedBytes !== sealedLength(rendition.plaintextBytes, metadata.content.sealing.chunkSize))
      throw new MetadataError(`${where}/sealedBytes is not the sealed size of ${rendition.plaintextBytes} bytes`)
    if ((rendition.role === 'sdr') !== (rendition.cid === metadata.content.cid))
      throw new MetadataError(`${where}: the sdr rendition, and only it, is the film's content`)
  }
}

/** Rendition `n` (subtitled) names a picture subtitle stream of the film that no other one burns in. */
function checkBurnedIn(metadata: FilmMetadata, n: number): void {
  const renditions = metadata.renditions ?? []
  const where = `film metadata is invalid: /renditions/${n}`
  const burnedIn = renditions[n].burnedIn
  if (burnedIn === undefined) throw new MetadataError(`${where}: a subtitled rendition names its subtitle stream in burnedIn`)
  const stream = metadata.imageSubtitles?.[burnedIn.imageSubtitle]
  if (stream === undefined || stream.language !== burnedIn.language)
    throw new MetadataError(`${where}/burnedIn names no picture subtitle stream of /imageSubtitles with its language`)
  if (renditions.findIndex(r => r.burnedIn?.imageSubtitle === burnedIn.imageSubtitle) !== n)
    throw new MetadataError(`${where} is a second rendition of picture subtitle stream ${burnedIn.imageSubtitle}`)
  if (renditions.slice(0, n + 1).filter(r => r.role === 'subtitled').length > MAX_SUBTITLED_RENDITIONS)
    throw new MetadataError(`${where} is more than ${MAX_SUBTITLED_RENDITIONS} subtitled renditions`)
}

/** An expiry time as metadata and the publish command take it: ISO 8601 with an offset, a real date. */
export function parseExpiry(text: string): number {
  const at = Date.parse(text)
  // Date.parse rolls an impossible day (02-30) over into the next month; the calendar date must exist
  const [year, month, day] = text.slice(0, 10).split('-').map(Number)
  const calendarDay = new Date(Date.UTC(year, month - 1, day))
  if (!ISO_TIME.test(text) || Number.isNaN(at) || calendarDay.getUTCMonth() !== month - 1 || calendarDay.getUTCDate() !== day) {
    throw new MetadataError(`not an ISO 8601 time with an offset (e.g. 2030-01-31T00:00:00Z): "${text.slice(0, 40)}"`)
  }
  return at
}

export function parseCid(text: string): CID {
  try {
    return CID.parse(text)
  } catch {
    throw new MetadataError(`not a CID: "${text.slice(0, 100)}"`)
  }
}

/** The metadata CID in a token URI of the form ipfs://<cid>. */
export function metadataCidFromUri(uri: string): CID {
  const match = /^ipfs:\/\/([A-Za-z0-9]+)$/.exec(uri)
  if (match === null) throw new MetadataError(`token URI is not ipfs://<cid>: "${uri.slice(0, 100)}"`)
  return parseCid(match[1])
}
