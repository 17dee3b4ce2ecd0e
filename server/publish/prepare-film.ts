// Everything a publish does before the registration: the video made playable and its poster, seek
// thumbnails and subtitles made as plaintext work files, then sealed with the film's key (all but the
// poster), added to Helia and pinned, and described by the metadata boxes will read.
import { createReadStream } from 'node:fs'
import { readFile, stat, writeFile } from 'node:fs/promises'
import path from 'node:path'
import type { StorageNode } from '../storage/helia-node.ts'
import type { CID } from 'multiformats/cid'
import {
  parseExpiry,
  parseFilmMetadata,
  type ChapterMetadata,
  type FilmMetadata,
  type RenditionMetadata,
  type SubtitleTrackMetadata,
  type ThumbnailSheetsMetadata
} from '../library/film-metadata.ts'
import { addBytes, addFile } from '../storage/content.ts'
import { createSealer, generateContentKey, sealBuffer } from '../sealing/seal.ts'
import { DEFAULT_CHUNK_SIZE, DEFAULT_CIPHER, sealedLength, type CipherName } from '../sealing/format.ts'
import { probeMedia, type MediaInfo } from './probe.ts'
import { makePlayableFilm } from './film-with-low.ts'
import { extractPoster, extractThumbnailSheets, type ThumbnailSheetFiles } from './artwork.ts'
import { describeRendition, makeRenditions, type RenditionFile } from './renditions.ts'
import { extractSubtitleStreamToWebVtt, imageSubtitleStreams, isTextSubtitle, subtitleFileToWebVtt } from './subtitles.ts'
import { withPlaintextWorkDir } from './work-dir.ts'
import { chapterEntries, chaptersWebVtt } from './chapters.ts'
import type { PreparedFilm } from './publish-intent.ts'
import type { PublishContext, PublishRequest } from './publish-film.ts'
import type { PinLedger } from './pin-ledger.ts'

type Progress = (step: string, fraction: number) => void
type Sealing = { cipher: CipherName; chunkSize: number }
type SubtitleTrack = { file: string } & Omit<SubtitleTrackMetadata, 'cid'>

/** The plaintext work files of one publish, in its private work folder. */
interface WorkFiles {
  /** The file to seal: the input itself when it plays directly, else its normalised copy. */
  playable: string
  playableInfo: MediaInfo
  /** The input's own probe: its subtitle streams and chapters. */
  sourceInfo: MediaInfo
  posterFile: string
  sheets: ThumbnailSheetFiles | undefined
  subtitles: SubtitleTrack[]
  /** The source's chapters and their WebVTT track; undefined when it has none. */
  chapters: { file: string; entries: ChapterMetadata[] } | undefined
  /** The renditions besides the playable (SDR) film: the original HEVC, the weak-link one, the subtitled ones. */
  renditions: RenditionFile[]
}

/** What went into Helia, pinned: the sealed film, its poster, and its sealed subtitles and thumbnail sheets. */
interface AddedFilm {
  contentCid: CID
  sealedBytes: number
  plaintextBytes: number
  posterCid: CID
  subtitles: SubtitleTrackMetadata[]
  chapters: FilmMetadata['chapters']
  thumbnailSheets: ThumbnailSheetsMetadata | undefined
  renditions: RenditionMetadata[]
}

/** A file sealed, added and pinned. */
type SealedFile = { cid: CID; sealedBytes: number; plaintextBytes: number }

/** Seek thumbnails: a frame every 10 s (the Player's seek bar shows the tile under the cursor), 100 a sheet. */
const THUMBNAIL_INTERVAL_SECONDS = 10

/** What adding a file needs: the node, and the ledger each pin is noted in (pin-ledger.ts). */
type Adding = { helia: StorageNode; pins: PinLedger }

/** Everything up to the registration: the film sealed, added and pinned (each pin noted in `pins`), with its metadata. */
export async function prepareFilm(
  ctx: PublishContext,
  request: PublishRequest,
  progress: Progress,
  pins: PinLedger
): Promise<PreparedFilm> {
  const { helia } = ctx
  return await withPlaintextWorkDir(async workDir => {
    const files = await makeWorkFiles(request, workDir, progress)
    // written into the film's metadata, so it must be what the sealer is given
    const sealing = { cipher: request.cipher ?? DEFAULT_CIPHER, chunkSize: DEFAULT_CHUNK_SIZE }
    const added = await addSealedFilm({ ...ctx, pins }, files, sealing, progress)
    const metadata = filmMetadata(ctx, request, files.sourceInfo, files.playableInfo, sealing, added)
    const metadataBytes = new TextEncoder().encode(JSON.stringify(metadata, null, 2))
    parseFilmMetadata(metadataBytes) // what boxes will accept: refused here rather than registered on chain
    const metadataCid = await pins.pin(await addBytes(helia, metadataBytes))
    return { metadataCid: metadataCid.toString(), contentCid: added.contentCid.toString() }
  })
}

/**
 * probe → normalise for direct play (and the low rendition with it, where both are encoded) → poster,
 * seek thumbnails (for video), WebVTT subtitles → the other renditions.
 */
async function makeWorkFiles(request: PublishRequest, workDir: string, progress: Progress): Promise<WorkFiles> {
  progress('probe', 0)
  const info = await probeMedia(request.input)
  const chapters = chapterEntries(info) // refused here (too many), before hours of normalising
  progress('probe', 1)
  const film = await makePlayableFilm(request.input, info, path.join(workDir, 'film.mp4'), workDir, f => progress('normalise', f))
  const playable = film.file
  const playableInfo = playable === request.input ? info : await probeMedia(playable)

  progress('poster', 0)
  const posterFile = path.join(workDir, 'poster.jpg')
  await extractPoster(playable, playableInfo, posterFile)
  progress('poster', 1)

  let sheets: ThumbnailSheetFiles | undefined
  if (playableInfo.video !== undefined) {
    progress('thumbnails', 0)
    sheets = await extractThumbnailSheets(playable, playableInfo, workDir, { intervalSeconds: THUMBNAIL_INTERVAL_SECONDS })
    progress('thumbnails', 1)
  }

  const subtitles = await webVttSubtitles(request, info, workDir)
  progress('subtitles', 1)
  const renditions = await makeRenditions(request.input, info, workDir, f => progress('renditions', f), film.renditions)
  return {
    playable,
    playableInfo,
    sourceInfo: info,
    posterFile,
    sheets,
    subtitles,
    chapters: await chaptersTrack(chapters, workDir),
    renditions
  }
}

/** The source's chapters with their WebVTT chapters file (the MP4 keeps them too: ffmpeg copies chapters). */
async function chaptersTrack(entries: ChapterMetadata[], workDir: string): Promise<WorkFiles['chapters']> {
  if (entries.length === 0) return undefined
  const file = path.join(workDir, 'chapters.vtt')
  await writeFile(file, chaptersWebVtt(entries))
  return { file, entries }
}

/**
 * The subtitle files given, then the input's own text subtitle streams, each converted to WebVTT. The
 * film starts with one of them (`default`): the first file given, else the first stream the source
 * marks default. Forced streams are marked so.
 */
async function webVttSubtitles(request: PublishRequest, info: MediaInfo, workDir: string): Promise<SubtitleTrack[]> {
  const vttFiles: SubtitleTrack[] = []
  for (const [i, track] of (request.subtitles ?? []).entries()) {
    const out = path.join(workDir, `subtitles-${i}.vtt`)
    await subtitleFileToWebVtt(track.file, out)
    vttFiles.push({ ...track, file: out, ...(i === 0 ? { default: true } : {}) })
  }
  for (const stream of info.subtitles.filter(s => isTextSubtitle(s.codec))) {
    const out = path.join(workDir, `embedded-${stream.index}.vtt`)
    await extractSubtitleStreamToWebVtt(request.input, info, stream.index, out)
    const isDefault = stream.default && !vttFiles.some(track => track.default === true)
    vttFiles.push({
      file: out,
      language: stream.language ?? 'und',
      label: stream.title ?? stream.language ?? `Track ${stream.index}`,
      ...(stream.forced ? { forced: true } : {}),
      ...(isDefault ? { default: true } : {})
    })
  }
  return vttFiles
}

/** Streams a file through the sealer into Helia, pinned; onBytes sees the sealed bytes added so far. */
async function addSealedFile(
  { helia, pins }: Adding,
  contentKey: Uint8Array,
  file: string,
  sealing: Sealing,
  onBytes?: (sealed: number) => void
): Promise<SealedFile> {
  const plaintextBytes = (await stat(file)).size
  const sealedSource = createReadStream(file, { highWaterMark: 1024 * 1024 }).pipe(
    createSealer(contentKey, { plaintextLength: plaintextBytes, ...sealing })
  )
  const cid = await pins.pin(await addFile(helia, sealedSource, onBytes))
  return { cid, sealedBytes: sealedLength(plaintextBytes, sealing.chunkSize), plaintextBytes }
}

/**
 * Seals the film with a new content key, kept in custody once the sealed film is added; the sheets,
 * subtitles and other renditions show the film, so they are sealed with it too.
 */
async function addSealedFilm(ctx: PublishContext & Adding, files: WorkFiles, sealing: Sealing, progress: Progress): Promise<AddedFilm> {
  const { helia, custody, pins } = ctx
  const contentKey = generateContentKey()
  const total = sealedLength(files.playableInfo.sizeBytes, sealing.chunkSize)
  const content = await addSealedFile(ctx, contentKey, files.playable, sealing, bytes => progress('seal', Math.min(0.999, bytes / total)))
  const { cid: contentCid, sealedBytes, plaintextBytes } = content
  await custody.put(contentCid.toString(), contentKey)
  progress('seal', 1)
  const duration = files.playableInfo.durationSeconds
  const renditions = [await describeRendition({ role: 'sdr', file: files.playable }, content, duration)]
  for (const rendition of files.renditions) {
    const sealed = await addSealedFile(ctx, contentKey, rendition.file, sealing)
    renditions.push(await describeRendition(rendition, sealed, duration))
  }
  progress('seal renditions', 1)

  const posterCid = await pins.pin(await addBytes(helia, await readFile(files.posterFile)))
  const addSealed = async (file: string): Promise<string> =>
    (await pins.pin(await addBytes(helia, sealBuffer(contentKey, await readFile(file), sealing)))).toString()
  const subtitles = []
  for (const { file, ...track } of files.subtitles) subtitles.push({ cid: await addSealed(file), ...track })
  const chapters = files.chapters && { cid: await addSealed(files.chapters.file), entries: files.chapters.entries }
  let thumbnailSheets: ThumbnailSheetsMetadata | undefined
  if (files.sheets !== undefined) {
    const cids = []
    for (const file of files.sheets.files) cids.push({ cid: await addSealed(file) })
    thumbnailSheets = { ...files.sheets.grid, mimeType: 'image/jpeg', sheets: cids }
  }
  return { contentCid, sealedBytes, plaintextBytes, posterCid, subtitles, chapters, thumbnailSheets, renditions }
}

/**
 * Subtitle streams that are pictures (PGS, DVD): named in the metadata, not made into text tracks (the
 * `subtitled` renditions burn some of them into the picture).
 */
function imageSubtitles(info: MediaInfo): FilmMetadata['imageSubtitles'] {
  const streams = imageSubtitleStreams(info)
  if (streams.length === 0) return undefined
  return streams.map(s => ({
    language: s.language ?? 'und',
    codec: s.codec,
    ...(s.title !== undefined ? { label: s.title } : {}),
    ...(s.forced ? { forced: true } : {})
  }))
}

function filmMetadata(
  ctx: PublishContext,
  request: PublishRequest,
  info: MediaInfo,
  playableInfo: MediaInfo,
  sealing: Sealing,
  added: AddedFilm
): FilmMetadata {
  const { thumbnailSheets, chapters } = added
  const images = imageSubtitles(info)
  return {
    schema: 'seed-one/film-metadata/v1',
    title: request.title,
    ...(request.year !== undefined ? { year: request.year } : {}),
    synopsis: request.synopsis ?? '',
    durationSeconds: playableInfo.durationSeconds,
    contentClass: request.contentClass ?? 'production',
    content: {
      cid: added.contentCid.toString(),
      sealedBytes: added.sealedBytes,
      plaintextBytes: added.plaintextBytes,
      mimeType: 'video/mp4',
      sealing: { format: 'seed-one/sealed/v1', ...sealing },
      ...(playableInfo.video !== undefined
        ? { video: { codec: playableInfo.video.codec, width: playableInfo.video.width, height: playableInfo.video.height } }
        : {}),
      audio: playableInfo.audio.map(a => ({
        codec: a.codec,
        channels: a.channels,
        ...(a.language !== undefined ? { language: a.language } : {})
      }))
    },
    poster: { cid: added.posterCid.toString(), mimeType: 'image/jpeg' },
    subtitles: added.subtitles,
    ...(chapters !== undefined ? { chapters } : {}),
    ...(images !== undefined ? { imageSubtitles: images } : {}),
    ...(thumbnailSheets !== undefined ? { thumbnailSheets } : {}),
    renditions: added.renditions,
    ...(request.expiresAt !== undefined ? { expiresAt: new Date(parseExpiry(request.expiresAt)).toISOString() } : {}),
    custodian: ctx.custodian
  }
}
