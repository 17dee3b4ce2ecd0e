import { Readable } from 'node:stream'
import type { Helia } from 'helia'
import type { CID } from 'multiformats/cid'
import { HEADER_LENGTH, checkContentKey, chunkKey, chunkSpan, decodeHeader, sealedLength, type SealedHeader } from '../sealing/format.ts'
import { createChunkOpener, type ChunkOpener } from '../sealing/open.ts'
import { fileSize, readBytes, readRangeLent } from '../storage/content.ts'
import { HttpError } from '../http-error.ts'

export class SealedFilmError extends Error {
  override name = 'SealedFilmError'
}

/**
 * Blocks a read needed did not arrive in time. Blocks on this box's disk never take that long: this
 * is a film still pinning whose blocks at this position no reachable peer sent. 504: the box waited
 * on the network for them.
 */
export class FilmBlocksTimeoutError extends HttpError {
  override name = 'FilmBlocksTimeoutError'
  constructor(timeoutMs: number) {
    super(
      504,
      `the film's blocks at this position did not arrive within ${Math.round(timeoutMs / 1000)} s: it is not all on this box yet and no reachable peer sent them; try again shortly`
    )
  }
}

/** Long enough for a block from a slow home uplink; a block on this box's disk never comes near it. */
const DEFAULT_FETCH_TIMEOUT_MS = 30_000

/** A film's plaintext from one position on. */
export interface PlaintextStream extends Readable {
  /**
   * Resolves once the first sealed bytes are in hand, or rejects with why they cannot be had (a
   * timeout, a failed read), so a caller can answer with an error before it sends a status line.
   */
  firstPiece(): Promise<void>
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
  helia: Helia,
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
    size = await fileSize(helia, cid, signal)
    if (size < HEADER_LENGTH) throw new SealedFilmError(`${cid} holds ${size} bytes, too few for a sealed header`)
    header = decodeHeader(await readBytes(helia, cid, { offset: 0, length: HEADER_LENGTH, signal }))
  } catch (err) {
    throw signal.aborted ? new FilmBlocksTimeoutError(fetchTimeoutMs) : err
  }
  const expected = sealedLength(header.plaintextLength, header.chunkSize)
  if (size !== expected) {
    throw new SealedFilmError(`${cid} holds ${size} bytes but its header describes a sealed object of ${expected} bytes`)
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
      const sealed = readRangeLent(helia, cid, { offset: span.sealedOffset, length: span.sealedLength, signal: reads.signal })
      return new SealedPlaintextStream(sealed, opener, reads, fetchTimeoutMs)
    }
  }
}

/**
 * Deciphers each sealed piece as it arrives and pushes its plaintext. One stream rather than a
 * reader piped into a Transform: the sealed pieces are lent (readRangeLent), and here each is wholly
 * deciphered before the next is asked for. A piece's plaintext (at most one leaf block) is pushed
 * even past the high-water mark; the next piece is asked for only when the consumer wants more.
 * Errors (a failed read, a chunk that fails authentication) destroy the stream, and so does its
 * consumer going away (stream.pipeline destroys it); destroying it aborts the reads.
 */
class SealedPlaintextStream extends Readable implements PlaintextStream {
  readonly #sealed: AsyncGenerator<Uint8Array>
  readonly #opener: ChunkOpener
  readonly #reads: AbortController
  readonly #fetchTimeoutMs: number
  /** The next sealed piece when it was asked for ahead of _read (firstPiece). */
  #ahead: Promise<IteratorResult<Uint8Array>> | undefined
  #pulling = false

  constructor(sealed: AsyncGenerator<Uint8Array>, opener: ChunkOpener, reads: AbortController, fetchTimeoutMs: number) {
    super()
    this.#sealed = sealed
    this.#opener = opener
    this.#reads = reads
    this.#fetchTimeoutMs = fetchTimeoutMs
  }

  async firstPiece(): Promise<void> {
    this.#ahead ??= this.#nextPiece()
    await this.#ahead
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
      while (wantsMore && !this.destroyed) {
        const next = await (this.#ahead ?? this.#nextPiece())
        this.#ahead = undefined
        if (this.destroyed) return
        if (next.done === true) {
          this.#opener.end()
          this.push(null)
          return
        }
        this.#opener.write(next.value, emit)
      }
    } catch (err) {
      this.destroy(err as Error)
    } finally {
      this.#pulling = false
    }
  }

  override _destroy(err: Error | null, callback: (err?: Error | null) => void): void {
    // stops the reads in flight; the generator finishes by itself once its pending step settles
    this.#reads.abort()
    this.#sealed.return(undefined).catch(() => {})
    callback(err)
  }
}
