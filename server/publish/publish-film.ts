import { createReadStream } from 'node:fs'
import { readFile } from 'node:fs/promises'
import path from 'node:path'
import { getAddress, type Contract, type Wallet } from 'ethers'
import type { CID } from 'multiformats/cid'
import type { CustodyStore } from '../keys/custody-store.ts'
import { publishedFilms, type PublishedFilm } from '../keys/published-films.ts'
import type { Daemon } from '../daemon.ts'
import { MetadataError, parseExpiry, parseFilmMetadata, type FilmMetadata, type ThumbnailSheetsMetadata } from '../library/film-metadata.ts'
import { addBytes, addFile, pinWithProgress } from '../storage/content.ts'
import type { StateDb } from '../storage/state-db.ts'
import type { StorageNode } from '../storage/helia-node.ts'
import { createSealer, generateContentKey, sealBuffer } from '../sealing/seal.ts'
import { DEFAULT_CHUNK_SIZE, DEFAULT_CIPHER, sealedLength, type CipherName } from '../sealing/format.ts'
import { probeMedia } from './probe.ts'
import { normaliseForDirectPlay } from './normalise.ts'
import { extractPoster, extractThumbnailSheets, type ThumbnailSheetFiles } from './artwork.ts'
import { extractSubtitleStreamToWebVtt, isTextSubtitle, subtitleFileToWebVtt } from './subtitles.ts'
import { removeAbandonedWorkDirs, withPlaintextWorkDir } from './work-dir.ts'
import { publishFingerprint, publishIntents, type PreparedFilm } from './publish-intent.ts'
import { completeRegistration, signRegistration, RegistrationError, type SignedRegistration } from './registration.ts'

export interface PublishRequest {
  input: string
  title: string
  year?: number
  synopsis?: string
  subtitles?: Array<{ file: string; language: string; label: string }>
  contentClass?: FilmMetadata['contentClass']
  /** `test` content only: when it stops being shown anywhere (ISO 8601 with an offset). */
  expiresAt?: string
  priceWei?: bigint
  maxSupply?: bigint
  tierThresholds?: bigint[]
  royaltyBps?: number
  /** The AEAD the film is sealed with (default DEFAULT_CIPHER); boxes open either. */
  cipher?: CipherName
}

export interface PublishContext {
  helia: StorageNode
  db: StateDb
  custody: CustodyStore
  /** The film contract connected with the creator's signer. */
  contract: Contract
  /** The creator's address: receives proceeds and royalties. */
  creator: string
  custodian: { url: string; peerId: string }
  onProgress?: (step: string, fraction: number) => void
}

/** The context for publishing on a custodian daemon running in this process (the demo, tests, benchmarks), signed by `creator`. */
export function daemonPublishContext(custodian: Daemon, creator: Wallet, onProgress?: PublishContext['onProgress']): PublishContext {
  if (custodian.custody === undefined) throw new Error('publishing needs a daemon with the custodian role')
  return {
    helia: custodian.helia,
    db: custodian.db,
    custody: custodian.custody,
    contract: custodian.chain.contract.connect(creator) as Contract,
    creator: creator.address,
    custodian: { url: custodian.url, peerId: custodian.identity.deviceId },
    onProgress
  }
}

export type { PublishedFilm } from '../keys/published-films.ts'

/** The platform's planned distribution tiers (DESIGN: 100 small venue … 50 000 national). */
const DEFAULT_TIERS = [100n, 5_000n, 10_000n, 50_000n]

/** Seek thumbnails: a frame every 10 s (the Player's seek bar shows the tile under the cursor), 100 a sheet. */
const THUMBNAIL_INTERVAL_SECONDS = 10

/** Refuses an expiry the platform's rules do not allow: only `test` content expires, and not in the past. */
function checkExpiry(request: PublishRequest): void {
  if (request.expiresAt === undefined) return
  if ((request.contentClass ?? 'production') !== 'test')
    throw new MetadataError('only test content expires: publish it as --content-class test')
  if (parseExpiry(request.expiresAt) <= Date.now()) throw new MetadataError(`the expiry ${request.expiresAt} has passed already`)
}

/**
 * publish: video → probe → normalise for direct play → poster, seek thumbnails, WebVTT → seal → add
 * to Helia → metadata → registered on chain. Plaintext work files live in a private temp folder,
 * never in the data directory, and are removed afterwards. The content key is kept before the film
 * is registered. The thumbnail sheets and subtitles are sealed with the film's key: they show the film.
 * Rerunning the same publish after a crash resumes it (publish-intent.ts) and never registers the
 * film twice (registration.ts); rerunning a finished one answers the film it published.
 */
export async function publishFilm(ctx: PublishContext, request: PublishRequest): Promise<PublishedFilm> {
  checkExpiry(request)
  await removeAbandonedWorkDirs() // a killed run's plaintext
  const progress = ctx.onProgress ?? (() => {})
  const intents = publishIntents(ctx.db)
  const fingerprint = await publishFingerprint(request, {
    contract: await ctx.contract.getAddress(),
    creator: ctx.creator,
    custodian: ctx.custodian
  })
  const intent = await intents.get(fingerprint)
  if (intent?.film !== undefined) return intent.film
  const prepared = intent?.prepared ?? (await prepareFilm(ctx, request, progress))
  if (intent === undefined) await intents.put(fingerprint, { prepared })

  progress('register', 0)
  const registration = await registerOnce(
    ctx.contract,
    [
      `ipfs://${prepared.metadataCid}`,
      request.priceWei ?? 0n,
      request.maxSupply ?? 1_000_000n,
      request.tierThresholds ?? DEFAULT_TIERS,
      ctx.creator,
      request.royaltyBps ?? 1000
    ],
    intent?.registration,
    async signed => await intents.put(fingerprint, { prepared, registration: signed })
  )
  progress('register', 1)

  const film: PublishedFilm = {
    tokenId: registration.tokenId.toString(),
    title: request.title,
    metadataCid: prepared.metadataCid,
    contentCid: prepared.contentCid,
    publishedAt: new Date().toISOString(),
    creator: getAddress(ctx.creator),
    contract: await ctx.contract.getAddress()
  }
  // what key release trusts: this token, this content, this creator (keys/published-films.ts)
  await publishedFilms(ctx.db).record(film)
  await intents.put(fingerprint, { prepared, registration: registration.signed, film })
  return film
}

/**
 * Completes the registration an interrupted run kept, or signs a new one, keeps it (`keep`) and only
 * then sends it; a kept one that can no longer be mined is dropped, so the next run signs afresh.
 */
async function registerOnce(
  contract: Contract,
  args: unknown[],
  kept: SignedRegistration | undefined,
  keep: (signed: SignedRegistration | undefined) => Promise<void>
): Promise<{ tokenId: bigint; signed: SignedRegistration }> {
  if (kept !== undefined) {
    const outcome = await completeRegistration(contract, kept)
    if (outcome.state === 'mined') return { tokenId: outcome.tokenId, signed: kept }
  }
  const signed = await signRegistration(contract, args)
  await keep(signed)
  const outcome = await completeRegistration(contract, signed)
  if (outcome.state === 'mined') return { tokenId: outcome.tokenId, signed }
  await keep(undefined)
  throw new RegistrationError(`the film was not registered: ${outcome.reason}`)
}

/** Everything up to the registration: the film sealed, added and pinned, with its metadata. */
async function prepareFilm(
  ctx: PublishContext,
  request: PublishRequest,
  progress: (step: string, fraction: number) => void
): Promise<PreparedFilm> {
  const { helia, custody } = ctx
  const pinned = async (cid: CID): Promise<CID> => {
    await pinWithProgress(helia, cid)
    return cid
  }

  return await withPlaintextWorkDir(async workDir => {
    progress('probe', 0)
    const info = await probeMedia(request.input)
    progress('probe', 1)
    const { file: playable } = await normaliseForDirectPlay(request.input, info, path.join(workDir, 'film.mp4'), f =>
      progress('normalise', f)
    )
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

    const contentKey = generateContentKey()
    const vttFiles: Array<{ file: string; language: string; label: string }> = []
    for (const [i, track] of (request.subtitles ?? []).entries()) {
      const out = path.join(workDir, `subtitles-${i}.vtt`)
      await subtitleFileToWebVtt(track.file, out)
      vttFiles.push({ ...track, file: out })
    }
    for (const stream of info.subtitles.filter(s => isTextSubtitle(s.codec))) {
      const out = path.join(workDir, `embedded-${stream.index}.vtt`)
      await extractSubtitleStreamToWebVtt(request.input, info, stream.index, out)
      vttFiles.push({ file: out, language: stream.language ?? 'und', label: stream.title ?? stream.language ?? `Track ${stream.index}` })
    }
    progress('subtitles', 1)

    // written into the film's metadata, so it must be what the sealer is given
    const sealing = { cipher: request.cipher ?? DEFAULT_CIPHER, chunkSize: DEFAULT_CHUNK_SIZE }
    const plaintextBytes = playableInfo.sizeBytes
    const sealedBytes = sealedLength(plaintextBytes, sealing.chunkSize)
    const sealedSource = createReadStream(playable, { highWaterMark: 1024 * 1024 }).pipe(
      createSealer(contentKey, { plaintextLength: plaintextBytes, ...sealing })
    )
    const contentCid = await pinned(await addFile(helia, sealedSource, bytes => progress('seal', Math.min(0.999, bytes / sealedBytes))))
    await custody.put(contentCid.toString(), contentKey)
    progress('seal', 1)

    const posterCid = await pinned(await addBytes(helia, await readFile(posterFile)))
    const addSealed = async (file: string): Promise<string> =>
      (await pinned(await addBytes(helia, sealBuffer(contentKey, await readFile(file), sealing)))).toString()
    const subtitles = []
    for (const track of vttFiles) subtitles.push({ cid: await addSealed(track.file), language: track.language, label: track.label })
    let thumbnailSheets: ThumbnailSheetsMetadata | undefined
    if (sheets !== undefined) {
      const cids = []
      for (const file of sheets.files) cids.push({ cid: await addSealed(file) })
      thumbnailSheets = { ...sheets.grid, mimeType: 'image/jpeg', sheets: cids }
    }
    const metadata: FilmMetadata = {
      schema: 'seed-one/film-metadata/v1',
      title: request.title,
      ...(request.year !== undefined ? { year: request.year } : {}),
      synopsis: request.synopsis ?? '',
      durationSeconds: playableInfo.durationSeconds,
      contentClass: request.contentClass ?? 'production',
      content: {
        cid: contentCid.toString(),
        sealedBytes,
        plaintextBytes,
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
      poster: { cid: posterCid.toString(), mimeType: 'image/jpeg' },
      subtitles,
      ...(thumbnailSheets !== undefined ? { thumbnailSheets } : {}),
      ...(request.expiresAt !== undefined ? { expiresAt: new Date(parseExpiry(request.expiresAt)).toISOString() } : {}),
      custodian: ctx.custodian
    }
    const metadataBytes = new TextEncoder().encode(JSON.stringify(metadata, null, 2))
    parseFilmMetadata(metadataBytes) // what boxes will accept: refused here rather than registered on chain
    const metadataCid = await pinned(await addBytes(helia, metadataBytes))
    return { metadataCid: metadataCid.toString(), contentCid: contentCid.toString() }
  })
}
