// Opening: sealed chunks → plaintext, each chunk authenticated before any of its bytes leave.
import { createDecipheriv, createSecretKey, type DecipherGCM, type KeyObject } from 'node:crypto'
import { Transform, type TransformCallback } from 'node:stream'
import {
  HEADER_LENGTH, TAG_LENGTH, SealedFormatError,
  chunkAad, chunkCount, chunkNonce, chunkPlaintextLength, chunkSpan, decodeHeader, deriveChunkKey,
  type SealedHeader,
} from './format.ts'

type Emit = (plaintext: Buffer) => void

function chunkDecipher(key: KeyObject, header: SealedHeader, index: number): DecipherGCM {
  // Both AEADs expose the same setAAD/setAuthTag interface; the cast only picks one of Node's overload types.
  const decipher = createDecipheriv(header.cipher, key, chunkNonce(index), { authTagLength: TAG_LENGTH } as object) as DecipherGCM
  return decipher.setAAD(chunkAad(header, index))
}

/**
 * Reads sealed chunks firstChunk..lastChunk from input split anywhere and emits the plaintext bytes
 * [start, endExclusive) they hold. Deciphered bytes of a chunk are held back until its tag verifies.
 */
class ChunkReader {
  readonly #key: KeyObject
  readonly #header: SealedHeader
  readonly #lastChunk: number
  readonly #finalChunk: number
  readonly #start: number
  readonly #endExclusive: number
  readonly #tag = Buffer.alloc(TAG_LENGTH)
  #index: number
  #position = 0
  #decipher: DecipherGCM | undefined
  #pieces: Buffer[] = []

  constructor(contentKey: Uint8Array, header: SealedHeader, firstChunk: number, lastChunk: number, start: number, endExclusive: number) {
    this.#key = createSecretKey(deriveChunkKey(contentKey, header))
    this.#header = header
    this.#index = firstChunk
    this.#lastChunk = lastChunk
    this.#finalChunk = chunkCount(header.plaintextLength, header.chunkSize) - 1
    this.#start = start
    this.#endExclusive = endExclusive
  }

  write(data: Buffer, emit: Emit): void {
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
        this.#decipher ??= chunkDecipher(this.#key, this.#header, this.#index)
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
    throw new SealedFormatError(this.#position === 0
      ? `truncated: sealed data ends before ${this.#describeChunk(this.#index)}`
      : `truncated: sealed data ends inside ${this.#describeChunk(this.#index)} (${this.#position} of ${expected} bytes)`)
  }

  #finishChunk(emit: Emit): void {
    const decipher = this.#decipher ?? chunkDecipher(this.#key, this.#header, this.#index)
    decipher.setAuthTag(this.#tag)
    try {
      const rest = decipher.final()
      if (rest.length > 0) this.#pieces.push(rest)
    } catch {
      throw new SealedFormatError(`${this.#describeChunk(this.#index)} failed authentication: wrong key, or the header or chunk was modified, moved, dropped or duplicated`)
    }
    this.#emitWithinRange(emit)
    this.#index++
    this.#position = 0
    this.#decipher = undefined
    this.#pieces = []
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

class Opener extends Transform {
  readonly #reader: ChunkReader
  readonly #emit: Emit = (plaintext) => { this.push(plaintext) }

  constructor(reader: ChunkReader) {
    super()
    this.#reader = reader
  }

  override _transform(data: Buffer, _encoding: BufferEncoding, callback: TransformCallback): void {
    try {
      this.#reader.write(data, this.#emit)
    } catch (err) {
      callback(err as Error)
      return
    }
    callback()
  }

  override _flush(callback: TransformCallback): void {
    try {
      this.#reader.end()
    } catch (err) {
      callback(err as Error)
      return
    }
    callback()
  }
}

/**
 * A Transform that takes the sealed bytes from chunkSpan(header, start, end).sealedOffset onward and
 * outputs exactly the plaintext bytes start..end (inclusive).
 */
export function createOpener(contentKey: Uint8Array, header: SealedHeader, range: { start: number; end: number }): Transform {
  const { firstChunk, lastChunk } = chunkSpan(header, range.start, range.end)
  return new Opener(new ChunkReader(contentKey, header, firstChunk, lastChunk, range.start, range.end + 1))
}

export function openBuffer(contentKey: Uint8Array, sealed: Uint8Array): Uint8Array {
  const header = decodeHeader(sealed)
  const reader = new ChunkReader(contentKey, header, 0, chunkCount(header.plaintextLength, header.chunkSize) - 1, 0, header.plaintextLength)
  const pieces: Buffer[] = []
  reader.write(Buffer.from(sealed.buffer, sealed.byteOffset + HEADER_LENGTH, sealed.length - HEADER_LENGTH), (plaintext) => { pieces.push(plaintext) })
  reader.end()
  return Buffer.concat(pieces, header.plaintextLength)
}
