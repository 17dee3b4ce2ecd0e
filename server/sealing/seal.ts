// Sealing: plaintext → header || sealed chunks (see SPEC.md in this folder).
import { createCipheriv, randomBytes, type CipherGCM, type KeyObject } from 'node:crypto'
import { Transform, type TransformCallback } from 'node:stream'
import {
  AEAD_OPTIONS,
  CONTENT_KEY_LENGTH,
  DEFAULT_CHUNK_SIZE,
  HEADER_LENGTH,
  SALT_LENGTH,
  SealedFormatError,
  chunkAad,
  chunkCount,
  chunkKey,
  chunkNonce,
  chunkPlaintextLength,
  DEFAULT_CIPHER,
  encodeHeader,
  sealedLength,
  type CipherName,
  type SealedHeader
} from './format.ts'

export type SealOptions = { cipher?: CipherName; chunkSize?: number; salt?: Uint8Array }

export function generateContentKey(): Uint8Array {
  return randomBytes(CONTENT_KEY_LENGTH)
}

function prepare(contentKey: Uint8Array, plaintextLength: number, opts: SealOptions): { header: SealedHeader; key: KeyObject } {
  const header = encodeHeader({
    cipher: opts.cipher ?? DEFAULT_CIPHER,
    chunkSize: opts.chunkSize ?? DEFAULT_CHUNK_SIZE,
    plaintextLength,
    salt: opts.salt ?? randomBytes(SALT_LENGTH)
  })
  return { header, key: chunkKey(contentKey, header) }
}

function chunkCipher(key: KeyObject, header: SealedHeader, index: number): CipherGCM {
  // Both AEADs expose the same setAAD/getAuthTag interface; the cast only picks one of Node's overload types.
  const cipher = createCipheriv(header.cipher, key, chunkNonce(index), AEAD_OPTIONS) as CipherGCM
  return cipher.setAAD(chunkAad(header, index))
}

class Sealer extends Transform {
  readonly #key: KeyObject
  readonly #header: SealedHeader
  #index = 0
  #chunkFilled = 0
  #received = 0
  #cipher: CipherGCM | undefined

  constructor(key: KeyObject, header: SealedHeader) {
    super()
    this.#key = key
    this.#header = header
    this.push(header.bytes)
  }

  override _transform(data: Buffer, _encoding: BufferEncoding, callback: TransformCallback): void {
    const length = this.#header.plaintextLength
    if (this.#received + data.length > length) {
      callback(new SealedFormatError(`sealer: input is longer than the declared plaintext length ${length}`))
      return
    }
    this.#received += data.length
    let offset = 0
    while (offset < data.length) {
      this.#cipher ??= chunkCipher(this.#key, this.#header, this.#index)
      const chunkLength = chunkPlaintextLength(this.#header, this.#index)
      const take = Math.min(chunkLength - this.#chunkFilled, data.length - offset)
      this.push(this.#cipher.update(data.subarray(offset, offset + take)))
      offset += take
      this.#chunkFilled += take
      if (this.#chunkFilled === chunkLength) this.#finishChunk()
    }
    callback()
  }

  override _flush(callback: TransformCallback): void {
    const length = this.#header.plaintextLength
    if (this.#received < length) {
      callback(new SealedFormatError(`sealer: input ended after ${this.#received} of the declared ${length} plaintext bytes`))
      return
    }
    // Only an empty plaintext gets here with a chunk left: its single, empty, last chunk.
    if (this.#index < chunkCount(length, this.#header.chunkSize)) {
      this.#cipher ??= chunkCipher(this.#key, this.#header, this.#index)
      this.#finishChunk()
    }
    callback()
  }

  #finishChunk(): void {
    const cipher = this.#cipher as CipherGCM
    const rest = cipher.final()
    if (rest.length > 0) this.push(rest)
    this.push(cipher.getAuthTag())
    this.#cipher = undefined
    this.#chunkFilled = 0
    this.#index++
  }
}

/** A Transform that turns exactly `plaintextLength` plaintext bytes into the sealed object (header first). */
export function createSealer(contentKey: Uint8Array, opts: { plaintextLength: number } & SealOptions): Transform {
  const { header, key } = prepare(contentKey, opts.plaintextLength, opts)
  return new Sealer(key, header)
}

export function sealBuffer(contentKey: Uint8Array, plaintext: Uint8Array, opts: SealOptions = {}): Uint8Array {
  const { header, key } = prepare(contentKey, plaintext.length, opts)
  const out = Buffer.allocUnsafe(sealedLength(plaintext.length, header.chunkSize))
  out.set(header.bytes, 0)
  let position = HEADER_LENGTH
  for (let index = 0; index < chunkCount(plaintext.length, header.chunkSize); index++) {
    const cipher = chunkCipher(key, header, index)
    const start = index * header.chunkSize
    position += cipher.update(plaintext.subarray(start, start + chunkPlaintextLength(header, index))).copy(out, position)
    position += cipher.final().copy(out, position)
    position += cipher.getAuthTag().copy(out, position)
  }
  return out
}
