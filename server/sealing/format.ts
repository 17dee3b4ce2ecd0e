// Layout and arithmetic of the sealed content format (see SPEC.md in this folder).
import { createSecretKey, hkdfSync, type KeyObject } from 'node:crypto'

export const HEADER_LENGTH = 56
export const TAG_LENGTH = 16
export const NONCE_LENGTH = 12
export const SALT_LENGTH = 32
export const CONTENT_KEY_LENGTH = 32
export const DEFAULT_CHUNK_SIZE = 65536
export const MIN_CHUNK_SIZE = 1024
export const MAX_CHUNK_SIZE = 16 * 1024 * 1024
export const FORMAT_VERSION = 1

const MAGIC = Buffer.from('SEEDSEAL', 'ascii')
const KEY_INFO_PREFIX = Buffer.from('seed-one/sealed/v1', 'ascii')

export type CipherName = 'aes-256-gcm' | 'chacha20-poly1305'

const CIPHER_IDS: Record<CipherName, number> = { 'aes-256-gcm': 1, 'chacha20-poly1305': 2 }

export const CIPHER_NAMES = Object.keys(CIPHER_IDS) as CipherName[]

/**
 * What publish seals with unless told otherwise: the boards before the Pi 5 lack AES instructions,
 * and there ChaCha20-Poly1305 opens about 5 times faster (SPEC.md, "The cipher for the boards").
 * A reader takes either cipher from the header, so films sealed with AES-256-GCM keep playing.
 */
export const DEFAULT_CIPHER: CipherName = 'chacha20-poly1305'

export interface SealedHeader {
  version: 1
  cipher: CipherName
  chunkSize: number
  plaintextLength: number
  salt: Uint8Array
  bytes: Uint8Array /* the raw 56 header bytes */
}

/** Bad header, failed authentication, truncation or trailing bytes: the message says which chunk and why. */
export class SealedFormatError extends Error {
  constructor(message: string) {
    super(message)
    this.name = 'SealedFormatError'
  }
}

function cipherFromId(id: number): CipherName | undefined {
  return CIPHER_NAMES.find(name => CIPHER_IDS[name] === id)
}

function checkChunkSize(chunkSize: number): void {
  if (!Number.isInteger(chunkSize) || chunkSize < MIN_CHUNK_SIZE || chunkSize > MAX_CHUNK_SIZE) {
    throw new SealedFormatError(`chunk size ${chunkSize} is outside ${MIN_CHUNK_SIZE}..${MAX_CHUNK_SIZE}`)
  }
}

function checkPlaintextLength(plaintextLength: number): void {
  if (!Number.isSafeInteger(plaintextLength) || plaintextLength < 0) {
    throw new SealedFormatError(`plaintext length ${plaintextLength} is not an integer in 0..2^53-1`)
  }
}

export function encodeHeader(h: { cipher: CipherName; chunkSize: number; plaintextLength: number; salt: Uint8Array }): SealedHeader {
  if (!Object.hasOwn(CIPHER_IDS, h.cipher)) throw new SealedFormatError(`unknown cipher ${JSON.stringify(h.cipher)}`)
  checkChunkSize(h.chunkSize)
  checkPlaintextLength(h.plaintextLength)
  if (h.salt.length !== SALT_LENGTH) throw new SealedFormatError(`salt must be ${SALT_LENGTH} bytes, got ${h.salt.length}`)
  const bytes = Buffer.alloc(HEADER_LENGTH)
  MAGIC.copy(bytes, 0)
  bytes.writeUInt8(FORMAT_VERSION, 8)
  bytes.writeUInt8(CIPHER_IDS[h.cipher], 9)
  bytes.writeUInt32BE(h.chunkSize, 12)
  bytes.writeBigUInt64BE(BigInt(h.plaintextLength), 16)
  bytes.set(h.salt, 24)
  return {
    version: FORMAT_VERSION,
    cipher: h.cipher,
    chunkSize: h.chunkSize,
    plaintextLength: h.plaintextLength,
    salt: bytes.subarray(24),
    bytes
  }
}

/** Reads the header from the first 56 bytes of `bytes` (anything after them is ignored). */
export function decodeHeader(bytes: Uint8Array): SealedHeader {
  if (bytes.length < HEADER_LENGTH) {
    throw new SealedFormatError(`header needs ${HEADER_LENGTH} bytes, got ${bytes.length}`)
  }
  const raw = Buffer.from(bytes.buffer, bytes.byteOffset, HEADER_LENGTH)
  if (!raw.subarray(0, 8).equals(MAGIC)) throw new SealedFormatError('header: bad magic (not a SEEDSEAL object)')
  const version = raw.readUInt8(8)
  if (version !== FORMAT_VERSION) throw new SealedFormatError(`header: unsupported version ${version}`)
  const cipher = cipherFromId(raw.readUInt8(9))
  if (cipher === undefined) throw new SealedFormatError(`header: unknown cipher id ${raw.readUInt8(9)}`)
  if (raw.readUInt16BE(10) !== 0) throw new SealedFormatError('header: reserved bytes are not zero')
  const chunkSize = raw.readUInt32BE(12)
  const length = raw.readBigUInt64BE(16)
  if (length > BigInt(Number.MAX_SAFE_INTEGER)) throw new SealedFormatError(`header: plaintext length ${length} exceeds 2^53-1`)
  try {
    checkChunkSize(chunkSize)
  } catch (err) {
    throw new SealedFormatError(`header: ${(err as Error).message}`)
  }
  const copy = Buffer.from(raw)
  return { version: FORMAT_VERSION, cipher, chunkSize, plaintextLength: Number(length), salt: copy.subarray(24), bytes: copy }
}

export function chunkCount(plaintextLength: number, chunkSize: number): number {
  return Math.max(1, Math.ceil(plaintextLength / chunkSize))
}

export function sealedLength(plaintextLength: number, chunkSize: number): number {
  return HEADER_LENGTH + plaintextLength + TAG_LENGTH * chunkCount(plaintextLength, chunkSize)
}

/** Plaintext bytes held by chunk `index` (the last chunk may be short; an empty plaintext has one empty chunk). */
export function chunkPlaintextLength(header: SealedHeader, index: number): number {
  return Math.min(header.chunkSize, header.plaintextLength - index * header.chunkSize)
}

/** The sealed chunks that hold plaintext bytes start..end (inclusive) and where they sit in the sealed object. */
export function chunkSpan(
  header: SealedHeader,
  start: number,
  end: number
): { firstChunk: number; lastChunk: number; sealedOffset: number; sealedLength: number } {
  if (!Number.isSafeInteger(start) || !Number.isSafeInteger(end) || start < 0 || start > end || end >= header.plaintextLength) {
    throw new RangeError(`plaintext range ${start}-${end} is not within 0-${header.plaintextLength - 1}`)
  }
  const cs = header.chunkSize
  const firstChunk = Math.floor(start / cs)
  const lastChunk = Math.floor(end / cs)
  const plaintextEnd = Math.min(header.plaintextLength, (lastChunk + 1) * cs)
  return {
    firstChunk,
    lastChunk,
    sealedOffset: HEADER_LENGTH + firstChunk * (cs + TAG_LENGTH),
    sealedLength: plaintextEnd - firstChunk * cs + (lastChunk - firstChunk + 1) * TAG_LENGTH
  }
}

export function checkContentKey(contentKey: Uint8Array): void {
  if (contentKey.length !== CONTENT_KEY_LENGTH) {
    throw new RangeError(`content key must be ${CONTENT_KEY_LENGTH} bytes, got ${contentKey.length}`)
  }
}

/** HKDF-SHA256(content key, header salt, "seed-one/sealed/v1" || cipher id) → the key every chunk is sealed with. */
export function deriveChunkKey(contentKey: Uint8Array, header: SealedHeader): Buffer {
  checkContentKey(contentKey)
  const info = Buffer.concat([KEY_INFO_PREFIX, Buffer.of(CIPHER_IDS[header.cipher])])
  return Buffer.from(hkdfSync('sha256', contentKey, header.salt, info, 32))
}

/** deriveChunkKey as the KeyObject the ciphers take: derive it once per sealed object, not per chunk or range. */
export function chunkKey(contentKey: Uint8Array, header: SealedHeader): KeyObject {
  return createSecretKey(deriveChunkKey(contentKey, header))
}

/**
 * createCipheriv/createDecipheriv options for both AEADs. Typed `object` because a CipherName (a
 * union) only matches Node's generic overload, whose options type lacks authTagLength.
 */
export const AEAD_OPTIONS: object = { authTagLength: TAG_LENGTH }

/** Nonce = 4 zero bytes || u64 BE chunk index. Pass `into` (NONCE_LENGTH bytes) to reuse a buffer. */
export function chunkNonce(index: number, into: Buffer = Buffer.alloc(NONCE_LENGTH)): Buffer {
  into.writeUInt32BE(0, 0)
  writeU64(into, index, 4)
  return into
}

/** AAD = header bytes || u64 BE chunk index || u8 last-chunk flag. Pass `into` (HEADER_LENGTH + 9 bytes) to reuse a buffer. */
export function chunkAad(header: SealedHeader, index: number, into: Buffer = Buffer.alloc(HEADER_LENGTH + 9)): Buffer {
  into.set(header.bytes, 0)
  writeU64(into, index, HEADER_LENGTH)
  into.writeUInt8(index === chunkCount(header.plaintextLength, header.chunkSize) - 1 ? 1 : 0, HEADER_LENGTH + 8)
  return into
}

/** u64 BE of a safe integer, without a BigInt per call (this runs once per chunk). */
function writeU64(into: Buffer, value: number, offset: number): void {
  into.writeUInt32BE(Math.floor(value / 0x1_0000_0000), offset)
  into.writeUInt32BE(value >>> 0, offset + 4)
}
