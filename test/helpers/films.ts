// Films published by hand, as publish would without ffmpeg: sealed random bytes and metadata on a
// custodian's Helia, registered on chain, bought by a collector.
import { randomBytes } from 'node:crypto'
import { Contract, parseEther, type Wallet } from 'ethers'
import type { CID } from 'multiformats/cid'
import type { Helia } from 'helia'
import { loadFilmTokenArtifact } from '../../server/chain/artifacts.ts'
import { filmIdFromReceipt } from '../../server/chain/film-token.ts'
import type { Daemon } from '../../server/daemon.ts'
import { publishedFilms } from '../../server/keys/published-films.ts'
import type { FilmMetadata, RenditionMetadata } from '../../server/library/film-metadata.ts'
import { decodeHeader, type CipherName } from '../../server/sealing/format.ts'
import { generateContentKey, sealBuffer } from '../../server/sealing/seal.ts'
import { addBytes } from '../../server/storage/content.ts'

const FILM_PRICE_WEI = parseEther('0.01')
const { abi } = await loadFilmTokenArtifact()

export interface HandMadeFilm {
  tokenId: string
  plaintext: Buffer
  contentKey: Uint8Array
  contentCid: CID
  metadataCid: string
}

export interface RegisterFilmOptions {
  /** A daemon with the custodian role: it holds the blocks and the key. */
  custodian: Daemon
  /** A wallet with CREATOR_ROLE. */
  creator: Wallet
  contractAddress: string
  /** Plaintext length (default 5 KiB). */
  bytes?: number
  /** A real video instead of random bytes, with its type and length. */
  video?: { bytes: Uint8Array; mimeType: string; durationSeconds: number }
  /** false leaves the key out of custody. */
  keepKey?: boolean
  /** Where the metadata says devices ask for the key (default the custodian's URL). */
  custodianUrl?: string
  /** Default production: `test` and `development` films are listed only in developer mode. */
  contentClass?: FilmMetadata['contentClass']
  expiresAt?: string
  /** How the creator adds the sealed bytes to its node (default addBytes): a hostile creator's own DAG. */
  addContent?(helia: Helia, sealed: Uint8Array): Promise<CID>
  /** Fields added to the metadata JSON (which allows unknown ones): a hostile creator's padding. */
  extraMetadata?: Record<string, unknown>
  /** What the metadata says the film is (default video/mp4): a hostile creator's word. */
  mimeType?: string
  /** The AEAD it is sealed with (default: publish's default). */
  cipher?: CipherName
  /** Renditions besides the content (listed as its sdr one): random plaintext of these lengths, sealed with its key. */
  renditionBytes?: Partial<Record<'original' | 'low', number>>
}

/** Sealed random renditions of a hand-made film, added to the custodian, and the content as the sdr one. */
async function handMadeRenditions(
  opts: RegisterFilmOptions,
  contentKey: Uint8Array,
  content: FilmMetadata['content']
): Promise<RenditionMetadata[] | undefined> {
  if (opts.renditionBytes === undefined) return undefined
  const video = { codecs: 'avc1.64001e', width: 320, height: 180, hdr: 'sdr' as const }
  const describe = (role: RenditionMetadata['role'], cid: string, plaintextBytes: number, sealedBytes: number): RenditionMetadata => {
    const described = role === 'original' ? { ...video, codecs: 'hvc1.2.4.L60.90', hdr: 'pq' as const } : video
    // bits a second over the hand-made film's 1 s
    const shape = { mimeType: 'video/mp4' as const, fragmented: role !== 'sdr', codecs: described.codecs, bitrate: plaintextBytes * 8 }
    return { role, cid, sealedBytes, plaintextBytes, ...shape, video: described, audio: [] }
  }
  const renditions = [describe('sdr', content.cid, content.plaintextBytes, content.sealedBytes)]
  for (const [role, bytes] of Object.entries(opts.renditionBytes) as Array<['original' | 'low', number]>) {
    const sealed = sealBuffer(contentKey, randomBytes(bytes), { cipher: opts.cipher })
    renditions.push(describe(role, (await addBytes(opts.custodian.helia, sealed)).toString(), bytes, sealed.length))
  }
  return renditions
}

export async function registerFilm(opts: RegisterFilmOptions): Promise<HandMadeFilm> {
  const { custodian } = opts
  const contentKey = generateContentKey()
  const plaintext = opts.video === undefined ? randomBytes(opts.bytes ?? 5 * 1024) : Buffer.from(opts.video.bytes)
  const sealed = sealBuffer(contentKey, plaintext, { cipher: opts.cipher })
  const contentCid = await (opts.addContent ?? addBytes)(custodian.helia, sealed)
  if (opts.keepKey !== false) {
    if (custodian.custody === undefined) throw new Error('registerFilm needs a daemon with the custodian role')
    await custodian.custody.put(contentCid.toString(), contentKey)
  }
  const { cipher, chunkSize } = decodeHeader(sealed)
  const posterCid = await addBytes(custodian.helia, randomBytes(512))
  const content: FilmMetadata['content'] = {
    cid: contentCid.toString(),
    sealedBytes: sealed.length,
    plaintextBytes: plaintext.length,
    mimeType: opts.mimeType ?? opts.video?.mimeType ?? 'video/mp4',
    sealing: { format: 'seed-one/sealed/v1', cipher, chunkSize },
    audio: []
  }
  const renditions = await handMadeRenditions(opts, contentKey, content)
  const metadata: FilmMetadata & Record<string, unknown> = {
    ...opts.extraMetadata,
    schema: 'seed-one/film-metadata/v1',
    title: 'Hand-made test film',
    synopsis: 'Random bytes.',
    durationSeconds: opts.video?.durationSeconds ?? 1,
    contentClass: opts.contentClass ?? 'production',
    ...(opts.expiresAt !== undefined ? { expiresAt: opts.expiresAt } : {}),
    content,
    ...(renditions !== undefined ? { renditions } : {}),
    poster: { cid: posterCid.toString(), mimeType: 'image/jpeg' },
    subtitles: [],
    custodian: { url: opts.custodianUrl ?? custodian.url, peerId: custodian.identity.deviceId }
  }
  const { tokenId, metadataCid } = await registerMetadata(opts, metadata, { releaseKey: opts.keepKey !== false })
  return { tokenId, plaintext, contentKey, contentCid, metadataCid }
}

/**
 * Adds `metadata` to the custodian's Helia and registers it on chain as the creator; with `releaseKey`,
 * records it as publish does, so the custodian releases the key it holds for the metadata's content.
 */
export async function registerMetadata(
  opts: Pick<RegisterFilmOptions, 'custodian' | 'creator' | 'contractAddress'>,
  metadata: FilmMetadata,
  { releaseKey }: { releaseKey: boolean }
): Promise<{ tokenId: string; metadataCid: string }> {
  const metadataCid = await addBytes(opts.custodian.helia, new TextEncoder().encode(JSON.stringify(metadata)))
  const token = new Contract(opts.contractAddress, abi, opts.creator)
  const receipt = await (
    await token.getFunction('registerFilm')(`ipfs://${metadataCid}`, FILM_PRICE_WEI, 1000, [100, 5000], opts.creator.address, 500)
  ).wait()
  const tokenId = String(filmIdFromReceipt(token, receipt))
  if (releaseKey) {
    // as publish records it: the custodian releases keys only for films it registered itself
    await publishedFilms(opts.custodian.db).record({
      tokenId,
      title: metadata.title,
      metadataCid: metadataCid.toString(),
      contentCid: metadata.content.cid,
      publishedAt: new Date().toISOString(),
      creator: opts.creator.address,
      contract: opts.contractAddress
    })
  }
  return { tokenId, metadataCid: metadataCid.toString() }
}

/** Buys one token of the film, paying `priceWei` (registerFilm's price unless told). */
export async function buyFilm(buyer: Wallet, contractAddress: string, tokenId: string, priceWei: bigint = FILM_PRICE_WEI): Promise<void> {
  const token = new Contract(contractAddress, abi, buyer)
  await (await token.getFunction('buy')(tokenId, 1, { value: priceWei })).wait()
}

export async function transferFilm(from: Wallet, to: string, contractAddress: string, tokenId: string): Promise<void> {
  const token = new Contract(contractAddress, abi, from)
  await (await token.getFunction('safeTransferFrom')(from.address, to, tokenId, 1, '0x')).wait()
}
