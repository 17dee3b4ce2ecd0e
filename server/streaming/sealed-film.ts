import { Readable } from 'node:stream'
import type { Helia } from 'helia'
import type { CID } from 'multiformats/cid'
import { HEADER_LENGTH, checkContentKey, chunkKey, chunkSpan, decodeHeader, sealedLength, type SealedHeader } from '../sealing/format.ts'
import { createChunkOpener, type ChunkOpener } from '../sealing/open.ts'
import { fileSize, readBytes, readRangeLent } from '../storage/content.ts'

export class SealedFilmError extends Error {
  override name = 'SealedFilmError'
}

export interface SealedFilm {
  cid: CID
  header: SealedHeader
  plaintextLength: number
  /** Plaintext bytes start..end (inclusive), decrypted chunk by chunk; errors before any byte of a bad chunk. */
  createPlaintextStream(start: number, end: number): Readable
}

/** Reads and checks the header once; streams then read only the sealed chunks that hold their range. */
export async function openSealedFilm(helia: Helia, cid: CID, contentKey: Uint8Array): Promise<SealedFilm> {
  checkContentKey(contentKey)
  const size = await fileSize(helia, cid)
  if (size < HEADER_LENGTH) throw new SealedFilmError(`${cid} holds ${size} bytes, too few for a sealed header`)
  const header = decodeHeader(await readBytes(helia, cid, { offset: 0, length: HEADER_LENGTH }))
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
      return new PlaintextStream(sealed, opener, reads)
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
class PlaintextStream extends Readable {
  readonly #sealed: AsyncGenerator<Uint8Array>
  readonly #opener: ChunkOpener
  readonly #reads: AbortController
  #pulling = false

  constructor(sealed: AsyncGenerator<Uint8Array>, opener: ChunkOpener, reads: AbortController) {
    super()
    this.#sealed = sealed
    this.#opener = opener
    this.#reads = reads
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
        const next = await this.#sealed.next()
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
