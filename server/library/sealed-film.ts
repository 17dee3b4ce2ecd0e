import { Readable } from 'node:stream'
import type { CID } from 'multiformats/cid'
import {
  HEADER_LENGTH,
  SealedFormatError,
  TAG_LENGTH,
  checkContentKey,
  chunkKey,
  chunkPlaintextLength,
  chunkSpan,
  decodeHeader,
  sealedLength,
  type SealedHeader
} from '../sealing/format.ts'
import { createChunkOpener, type ChunkOpener } from '../sealing/open.ts'
import type { ContentReader } from '../storage/content.ts'
import { SeedError } from '../lib/errors.ts'

/**
 * The film's sealed content on this box cannot be opened: a header that does not decode or does not
 * match the object's size, a chunk that fails authentication, a block that cannot be read: the box's
 * own copy is damaged. The message names the content's CID and, past the header, the chunk.
 */
export class SealedFilmError extends SeedError {
  override name = 'SealedFilmError'
  constructor(cid: CID, problem: string, options?: ErrorOptions) {
    super('SEED_SEALED_FILM_DAMAGED', `sealed film ${cid}: ${problem}`, options)
  }
}

/**
 * Blocks a read needed did not arrive in time. Blocks on this box's disk never take that long: this
 * is a film still pinning whose blocks at this position no reachable peer sent: the box waited on
 * the network for them.
 */
export class FilmBlocksTimeoutError extends SeedError {
  override name = 'FilmBlocksTimeoutError'
  constructor(timeoutMs: number) {
    super(
      'SEED_FILM_BLOCKS_TIMEOUT',
      `the film's blocks at this position did not arrive within ${Math.round(timeoutMs / 1000)} s: it is not all on this box yet and no reachable peer sent them; try again shortly`
    )
  }
}

/** Long enough for a block from a slow home uplink; a block on this box's disk never comes near it. */
const DEFAULT_FETCH_TIMEOUT_MS = 30_000

/** A film's plaintext from one position on. */
export interface PlaintextStream extends Readable {
  /**
   * Resolves once the first chunk of the range has been read and authenticated, or rejects with why
   * it cannot be (a timeout, a failed read, a damaged chunk or header), so a caller can answer with
   * an error before it sends a status line.
   */
  firstPiece(): Promise<void>
  /**
   * The consumer is done with `chunk`, one this stream gave it (the socket has taken its bytes): its
   * memory is freed now rather than at a garbage collection. The chunk is empty afterwards.
   */
  free(chunk: Buffer): void
}

export interface SealedFilm {
  cid: CID
  header: SealedHeader
  plaintextLength: number
  /** Plaintext bytes start..end (inclusive), decrypted chunk by chunk; errors before any byte of a bad chunk. */
  createPlaintextStream(start: number, end: number): PlaintextStream
}

/**
 * Reads and checks the header once; streams then read only the sealed chunks that hold their range.
 * Blocks not on this box are fetched from peers as they are read (a film still pinning plays at once,
 * the blocks at its playback position fetched first); a read that waits `fetchTimeoutMs` for its next
 * bytes fails with FilmBlocksTimeoutError.
 */
export async function openSealedFilm(
  content: ContentReader,
  cid: CID,
  contentKey: Uint8Array,
  opts: { fetchTimeoutMs?: number } = {}
): Promise<SealedFilm> {
  checkContentKey(contentKey)
  const fetchTimeoutMs = opts.fetchTimeoutMs ?? DEFAULT_FETCH_TIMEOUT_MS
  const signal = AbortSignal.timeout(fetchTimeoutMs)
  let size: number
  let header: SealedHeader
  try {
    size = await content.fileSize(cid, signal)
    if (size < HEADER_LENGTH) throw new SealedFilmError(cid, `holds ${size} bytes, too few for a sealed header`)
    header = decodeHeader(await content.readBytes(cid, { offset: 0, length: HEADER_LENGTH, signal }))
  } catch (err) {
    if (signal.aborted) throw new FilmBlocksTimeoutError(fetchTimeoutMs)
    throw err instanceof SealedFormatError ? new SealedFilmError(cid, err.message, { cause: err }) : err
  }
  const expected = sealedLength(header.plaintextLength, header.chunkSize)
  if (size !== expected) {
    throw new SealedFilmError(cid, `holds ${size} bytes but its header describes a sealed object of ${expected} bytes`)
  }
  const key = chunkKey(contentKey, header)
  return {
    cid,
    header,
    plaintextLength: header.plaintextLength,
    createPlaintextStream(start, end) {
      const span = chunkSpan(header, start, end)
      const opener = createChunkOpener(key, header, { start, end })
      const reads = new AbortController()
      const sealed = content.readRangeLent(cid, { offset: span.sealedOffset, length: span.sealedLength, signal: reads.signal })
      const firstChunkLength = chunkPlaintextLength(header, span.firstChunk) + TAG_LENGTH
      const sealedChunkLength = header.chunkSize + TAG_LENGTH
      return new SealedPlaintextStream({ cid, sealed, opener, firstChunkLength, sealedChunkLength, reads, fetchTimeoutMs })
    }
  }
}

/** The range's first chunk, opened ahead of _read (firstPiece): its plaintext, and the rest of the sealed piece it ended in. */
type OpenedAhead = { plaintext: Buffer[]; rest: Uint8Array }

/**
 * Deciphers the sealed pieces as the consumer wants plaintext and pushes it. One stream rather than a
 * reader piped into a Transform: the sealed pieces are lent (readRangeLent), and here each is wholly
 * deciphered before the next is asked for. A piece (a leaf block, 1 MiB) is deciphered a sealed
 * chunk's length at a time, and only while the consumer wants more: each stream holds one chunk of
 * plaintext past its high-water mark, not a leaf's (16 streams to slow TVs: ~16 MB less resident).
 * Errors (a failed read, a chunk that fails authentication) destroy the stream, and so does its
 * consumer going away (stream.pipeline destroys it); destroying it aborts the reads.
 */
class SealedPlaintextStream extends Readable implements PlaintextStream {
  readonly #cid: CID
  readonly #sealed: AsyncGenerator<Uint8Array>
  readonly #opener: ChunkOpener
  /** Sealed bytes of the range's first chunk. */
  readonly #firstChunkLength: number
  readonly #sealedChunkLength: number
  readonly #reads: AbortController
  readonly #fetchTimeoutMs: number
  #ahead: Promise<OpenedAhead> | undefined
  /** What is left to decipher of the sealed piece lent last. */
  #rest: Uint8Array = new Uint8Array(0)
  #pulling = false

  constructor(opts: {
    cid: CID
    sealed: AsyncGenerator<Uint8Array>
    opener: ChunkOpener
    firstChunkLength: number
    sealedChunkLength: number
    reads: AbortController
    fetchTimeoutMs: number
  }) {
    super()
    this.#cid = opts.cid
    this.#sealed = opts.sealed
    this.#opener = opts.opener
    this.#firstChunkLength = opts.firstChunkLength
    this.#sealedChunkLength = opts.sealedChunkLength
    this.#reads = opts.reads
    this.#fetchTimeoutMs = opts.fetchTimeoutMs
  }

  async firstPiece(): Promise<void> {
    this.#ahead ??= this.#openFirstChunk()
    await this.#ahead
  }

  /**
   * Reads and opens the range's first chunk, and only it: whether the answer starts at all depends
   * on that chunk alone, not on how far the first sealed piece happens to reach. The rest of the
   * piece it ends in is kept for _read (the piece stays lent until the next one is asked for).
   */
  async #openFirstChunk(): Promise<OpenedAhead> {
    const plaintext: Buffer[] = []
    let rest: Uint8Array = new Uint8Array(0)
    let wanted = this.#firstChunkLength
    try {
      while (wanted > 0) {
        const next = await this.#nextPiece()
        if (next.done === true) {
          this.#opener.end() // throws: the sealed bytes stopped inside the first chunk
          break
        }
        const take = Math.min(wanted, next.value.byteLength)
        this.#opener.write(next.value.subarray(0, take), piece => plaintext.push(piece))
        wanted -= take
        rest = next.value.subarray(take)
      }
    } catch (err) {
      throw this.#named(err)
    }
    return { plaintext, rest }
  }

  /** The next sealed piece, or FilmBlocksTimeoutError when it takes longer than the fetch timeout. */
  async #nextPiece(): Promise<IteratorResult<Uint8Array>> {
    const timer = setTimeout(() => this.#reads.abort(new FilmBlocksTimeoutError(this.#fetchTimeoutMs)), this.#fetchTimeoutMs)
    try {
      return await this.#sealed.next()
    } catch (err) {
      const reason: unknown = this.#reads.signal.reason
      throw reason instanceof FilmBlocksTimeoutError ? reason : err
    } finally {
      clearTimeout(timer)
    }
  }

  /**
   * Each chunk of plaintext is a Buffer of its own (Decipher.update allocates one per call, and no
   * other holds its memory), so detaching it frees the memory at once. Left to the collector, the
   * ~1 GB/s of dead chunks counted toward V8's heap limit (gc-tuning.ts) and started a full
   * collection of the whole heap every ~140 MB served: with 16 streams, a quarter of the box's CPU
   * time went to marking (perf; docs/benchmarks.md).
   */
  free(chunk: Buffer): void {
    const memory = chunk.buffer as ArrayBuffer
    memory.transfer(0)
  }

  override _read(): void {
    if (!this.#pulling) void this.#pull()
  }

  async #pull(): Promise<void> {
    this.#pulling = true
    let wantsMore = true
    const emit = (plaintext: Buffer): void => {
      wantsMore = this.push(plaintext)
    }
    try {
      if (this.#ahead !== undefined) {
        const ahead = await this.#ahead
        this.#ahead = undefined
        if (this.destroyed) return
        for (const plaintext of ahead.plaintext) emit(plaintext)
        this.#rest = ahead.rest
      }
      while (wantsMore && !this.destroyed) {
        if (this.#rest.byteLength === 0) {
          const next = await this.#nextPiece()
          if (this.destroyed) return
          if (next.done === true) {
            this.#opener.end()
            this.push(null)
            return
          }
          this.#rest = next.value
        }
        const step = this.#rest.subarray(0, this.#sealedChunkLength)
        this.#rest = this.#rest.subarray(step.byteLength)
        this.#opener.write(step, emit)
      }
    } catch (err) {
      this.destroy(this.#named(err))
    } finally {
      this.#pulling = false
    }
  }

  /** A failure as a SealedFilmError naming the film and the chunk; a timeout stays one (the network's, 504). */
  #named(err: unknown): Error {
    if (err instanceof FilmBlocksTimeoutError || err instanceof SealedFilmError) return err
    const problem = err instanceof SealedFormatError ? err.message : `reading ${this.#opener.currentChunk()}: ${(err as Error).message}`
    return new SealedFilmError(this.#cid, problem, { cause: err })
  }

  override _destroy(err: Error | null, callback: (err?: Error | null) => void): void {
    // stops the reads in flight; the generator finishes by itself once its pending step settles
    this.#reads.abort()
    this.#sealed.return(undefined).catch(() => {})
    callback(err)
  }
}
