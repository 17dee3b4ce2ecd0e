import { getAddress, type Contract, type Wallet } from '../lib/ethers.ts'
import type { StorageNode } from '../storage/helia-node.ts'
import type { CustodyStore } from '../keys/custody-store.ts'
import { publishedFilms, type PublishedFilm } from '../keys/published-films.ts'
import type { FilmTokenClient } from '../chain/film-token.ts'
import type { DeviceIdentity } from '../identity/device-identity.ts'
import { MetadataError, parseExpiry, type FilmMetadata } from '../library/film-metadata.ts'
import type { StateDb } from '../storage/state-db.ts'
import type { CipherName } from '../sealing/format.ts'
import { removeAbandonedWorkDirs } from './work-dir.ts'
import { publishFingerprint, publishIntents, type PreparedFilm } from './publish-intent.ts'
import { pinLedger, releasePins } from './pin-ledger.ts'
import { prepareFilm } from './prepare-film.ts'
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

/** What publishing needs of a custodian daemon running in this process: a started Daemon has it. */
export interface LocalCustodian {
  url: string
  helia: StorageNode
  db: StateDb
  /** Present on a daemon with the custodian role. */
  custody?: CustodyStore
  chain: Pick<FilmTokenClient, 'contract'>
  identity: Pick<DeviceIdentity, 'deviceId'>
}

/** The context for publishing on a custodian daemon running in this process (the demo, tests, benchmarks), signed by `creator`. */
export function daemonPublishContext(
  custodian: LocalCustodian,
  creator: Wallet,
  onProgress?: PublishContext['onProgress']
): PublishContext {
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

/** Refuses an expiry the platform's rules do not allow: only `test` content expires, and not in the past. */
export function checkExpiry(request: PublishRequest): void {
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
 * film twice (registration.ts); rerunning a finished one answers the film it published. A publish that
 * fails leaves nothing behind where nothing can be resumed: a failure while preparing (a new run seals
 * with a new key) or a registration refused by the chain unpins what it added and collects it. One the
 * chain may still mine (sent, unanswered) keeps the sealed film for the rerun.
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
  const prepared = intent?.prepared ?? (await prepareOrRelease(ctx, request, progress))
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
  ).catch(async (err: unknown) => {
    if (!refusedByChain(err)) throw keptForRerun(err)
    await releasePins(ctx.helia, prepared.pins ?? [prepared.metadataCid, prepared.contentCid])
    await intents.del(fingerprint)
    throw new RegistrationError(
      `${(err as Error).message}; nothing was registered, and what this publish added to the data directory is removed`,
      { cause: err }
    )
  })
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

/** Prepares the film; a failure unpins what it pinned, since a rerun seals afresh with a new key. */
async function prepareOrRelease(
  ctx: PublishContext,
  request: PublishRequest,
  progress: (step: string, fraction: number) => void
): Promise<PreparedFilm> {
  const pins = pinLedger(ctx.helia)
  try {
    return { ...(await prepareFilm(ctx, request, progress, pins)), pins: pins.roots() }
  } catch (err) {
    await releasePins(ctx.helia, pins.roots()).catch(() => {}) // the failure, not the clean-up's, is the one to tell
    throw err
  }
}

/** A registration the chain refused (it reverted, or would: not a creator, no gas money) registered nothing and never will as it is. */
function refusedByChain(err: unknown): boolean {
  const { code } = err as { code?: string }
  return err instanceof RegistrationError || code === 'CALL_EXCEPTION' || code === 'INSUFFICIENT_FUNDS'
}

/** Any other failure (the chain unreachable mid-way): the sealed film and a sent registration are kept for the rerun. */
function keptForRerun(err: unknown): Error {
  return new RegistrationError(
    `the registration did not complete (${(err as Error).message}): the sealed film is kept, and rerunning the same command ` +
      'resumes at its registration, never registering it twice',
    { cause: err }
  )
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
