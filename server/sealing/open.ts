// Opening: sealed chunks → plaintext, each chunk authenticated before any of its bytes leave.
import { createDecipheriv, type DecipherGCM, type KeyObject } from 'node:crypto'
import {
  AEAD_OPTIONS,
  HEADER_LENGTH,
  NONCE_LENGTH,
  TAG_LENGTH,
  SealedFormatError,
  chunkAad,
  chunkCount,
  chunkKey,
  chunkNonce,
  chunkPlaintextLength,
  chunkSpan,
  decodeHeader,
  type SealedHeader
} from './format.ts'

type Emit = (plaintext: Buffer) => void

/** Sealed bytes in, verified plaintext out; the caller manages the flow (see createChunkOpener). */
export interface ChunkOpener {
  /** Takes the next sealed bytes (split anywhere; not kept after the call) and emits the plaintext of every chunk they complete. */
  write(sealed: Uint8Array, emit: Emit): void
  /** Throws if the sealed bytes stopped before the last chunk of the range. */
  end(): void
  /** The chunk it is reading now, as `chunk i of 0..n`: where a failed read of the sealed bytes stopped it. */
  currentChunk(): string
}

/**
 * Reads sealed chunks firstChunk..lastChunk from input split anywhere and emits the plaintext bytes
 * [start, endExclusive) they hold. Deciphered bytes of a chunk are held back until its tag verifies.
 */
class ChunkReader implements ChunkOpener {
  readonly #key: KeyObject
  readonly #header: SealedHeader
  readonly #lastChunk: number
  readonly #finalChunk: number
  readonly #start: number
  readonly #endExclusive: number
  readonly #tag = Buffer.alloc(TAG_LENGTH)
  // createDecipheriv and setAAD copy these, so one of each serves every chunk
  readonly #nonce = Buffer.alloc(NONCE_LENGTH)
  readonly #aad = Buffer.alloc(HEADER_LENGTH + 9)
  #index: number
  #position = 0
  #decipher: DecipherGCM | undefined
  #pieces: Buffer[] = []

  constructor(key: KeyObject, header: SealedHeader, firstChunk: number, lastChunk: number, start: number, endExclusive: number) {
    this.#key = key
    this.#header = header
    this.#index = firstChunk
    this.#lastChunk = lastChunk
    this.#finalChunk = chunkCount(header.plaintextLength, header.chunkSize) - 1
    this.#start = start
    this.#endExclusive = endExclusive
  }

  write(sealed: Uint8Array, emit: Emit): void {
    const data = Buffer.isBuffer(sealed) ? sealed : Buffer.from(sealed.buffer, sealed.byteOffset, sealed.byteLength)
    let offset = 0
    while (offset < data.length) {
      if (this.#index > this.#lastChunk) {
        if (this.#lastChunk === this.#finalChunk) {
          throw new SealedFormatError(`trailing bytes after the last chunk (${this.#describeChunk(this.#finalChunk)})`)
        }
        return // the rest of the object lies beyond the requested range
      }
      const ciphertextLength = chunkPlaintextLength(this.#header, this.#index)
      const take = Math.min(ciphertextLength + TAG_LENGTH - this.#position, data.length - offset)
      const piece = data.subarray(offset, offset + take)
      const ciphertextTake = Math.max(0, Math.min(take, ciphertextLength - this.#position))
      if (ciphertextTake > 0) {
        this.#decipher ??= this.#chunkDecipher()
        this.#pieces.push(this.#decipher.update(piece.subarray(0, ciphertextTake)))
      }
      if (take > ciphertextTake) piece.copy(this.#tag, this.#position + ciphertextTake - ciphertextLength, ciphertextTake)
      this.#position += take
      offset += take
      if (this.#position === ciphertextLength + TAG_LENGTH) this.#finishChunk(emit)
    }
  }

  end(): void {
    if (this.#index > this.#lastChunk) return
    const expected = chunkPlaintextLength(this.#header, this.#index) + TAG_LENGTH
    throw new SealedFormatError(
      this.#position === 0
        ? `truncated: sealed data ends before ${this.#describeChunk(this.#index)}`
        : `truncated: sealed data ends inside ${this.#describeChunk(this.#index)} (${this.#position} of ${expected} bytes)`
    )
  }

  currentChunk(): string {
    return this.#describeChunk(this.#index)
  }

  #finishChunk(emit: Emit): void {
    const decipher = this.#decipher ?? this.#chunkDecipher()
    decipher.setAuthTag(this.#tag)
    try {
      const rest = decipher.final()
      if (rest.length > 0) this.#pieces.push(rest)
    } catch {
      throw new SealedFormatError(
        `${this.#describeChunk(this.#index)} failed authentication: wrong key, or the header or chunk was modified, moved, dropped or duplicated`
      )
    }
    this.#emitWithinRange(emit)
    this.#index++
    this.#position = 0
    this.#decipher = undefined
    this.#pieces = []
  }

  #chunkDecipher(): DecipherGCM {
    const nonce = chunkNonce(this.#index, this.#nonce)
    // Both AEADs expose the same setAAD/setAuthTag interface; the cast only picks one of Node's overload types.
    const decipher = createDecipheriv(this.#header.cipher, this.#key, nonce, AEAD_OPTIONS) as DecipherGCM
    return decipher.setAAD(chunkAad(this.#header, this.#index, this.#aad))
  }

  #emitWithinRange(emit: Emit): void {
    let pieceStart = this.#index * this.#header.chunkSize
    for (const piece of this.#pieces) {
      const from = Math.max(this.#start - pieceStart, 0)
      const to = Math.min(this.#endExclusive - pieceStart, piece.length)
      if (to > from) emit(from === 0 && to === piece.length ? piece : piece.subarray(from, to))
      pieceStart += piece.length
    }
  }

  #describeChunk(index: number): string {
    return `chunk ${index} of 0..${this.#finalChunk}`
  }
}

/**
 * Opens plaintext bytes start..end (inclusive): the caller feeds the sealed bytes from
 * chunkSpan(header, start, end).sealedOffset onward. `key` is chunkKey(contentKey, header).
 */
export function createChunkOpener(key: KeyObject, header: SealedHeader, range: { start: number; end: number }): ChunkOpener {
  const { firstChunk, lastChunk } = chunkSpan(header, range.start, range.end)
  return new ChunkReader(key, header, firstChunk, lastChunk, range.start, range.end + 1)
}

export function openBuffer(contentKey: Uint8Array, sealed: Uint8Array): Uint8Array {
  const header = decodeHeader(sealed)
  const reader = new ChunkReader(
    chunkKey(contentKey, header),
    header,
    0,
    chunkCount(header.plaintextLength, header.chunkSize) - 1,
    0,
    header.plaintextLength
  )
  const pieces: Buffer[] = []
  reader.write(Buffer.from(sealed.buffer, sealed.byteOffset + HEADER_LENGTH, sealed.length - HEADER_LENGTH), plaintext => {
    pieces.push(plaintext)
  })
  reader.end()
  return Buffer.concat(pieces, header.plaintextLength)
}
