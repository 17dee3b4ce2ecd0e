import t from 'tap'
import { randomBytes } from 'node:crypto'
import { Readable, type Transform } from 'node:stream'
import { pipeline } from 'node:stream/promises'
import {
  DEFAULT_CHUNK_SIZE,
  HEADER_LENGTH,
  SealedFormatError,
  chunkCount,
  chunkKey,
  chunkSpan,
  decodeHeader,
  encodeHeader,
  sealedLength,
  type CipherName,
  type SealedHeader
} from '../server/sealing/format.ts'
import { createSealer, generateContentKey, sealBuffer } from '../server/sealing/seal.ts'
import { createChunkOpener, openBuffer, type ChunkOpener } from '../server/sealing/open.ts'

const CIPHERS: CipherName[] = ['aes-256-gcm', 'chacha20-poly1305']
const CS = 1024

/** Small seeded PRNG so a failing split or range can be reproduced. */
function seededRandom(seed: number): () => number {
  let state = seed >>> 0
  return () => {
    state = (state + 0x6d2b79f5) >>> 0
    let x = state
    x = Math.imul(x ^ (x >>> 15), x | 1)
    x ^= x + Math.imul(x ^ (x >>> 7), x | 61)
    return ((x ^ (x >>> 14)) >>> 0) / 4294967296
  }
}

function randomSplit(data: Uint8Array, random: () => number): Buffer[] {
  const pieces: Buffer[] = []
  let offset = 0
  while (offset < data.length) {
    const size = random() < 0.3 ? 1 + Math.floor(random() * 16) : 1 + Math.floor(random() * 3000)
    pieces.push(Buffer.from(data.subarray(offset, offset + size)))
    offset += size
  }
  return pieces
}

/** Streams `input` (split at random points) through `transform`; `output` is what arrived downstream. */
async function run(transform: Transform, input: Uint8Array, random: () => number): Promise<{ output: Buffer; error: unknown }> {
  const output: Buffer[] = []
  let error: unknown
  try {
    await pipeline(Readable.from(randomSplit(input, random)), transform, async (source: AsyncIterable<Buffer>) => {
      for await (const piece of source) output.push(piece)
    })
  } catch (err) {
    error = err
  }
  return { output: Buffer.concat(output), error }
}

/** A chunk opener for plaintext start..end, fed the sealed object from chunkSpan(header, start, end).sealedOffset onward. */
function opener(contentKey: Uint8Array, header: SealedHeader, start: number, end: number): ChunkOpener {
  return createChunkOpener(chunkKey(contentKey, header), header, { start, end })
}

/**
 * Writes `input` (split at random points) to `chunks`, then ends it. `output` is every byte it
 * emitted, including any emitted before an error.
 */
function open(chunks: ChunkOpener, input: Uint8Array, random: () => number): { output: Buffer; error: unknown } {
  const output: Buffer[] = []
  let error: unknown
  try {
    for (const piece of randomSplit(input, random)) {
      chunks.write(piece, plaintext => {
        output.push(Buffer.from(plaintext))
      })
    }
    chunks.end()
  } catch (err) {
    error = err
  }
  return { output: Buffer.concat(output), error }
}

t.test('round trip through buffers and streams, both ciphers', async t => {
  const key = generateContentKey()
  t.equal(key.length, 32)
  const random = seededRandom(1)
  const cases = [
    [0, 1],
    [1, 1],
    [CS - 1, 1],
    [CS, 1],
    [CS + 1, 2],
    [9 * CS + 123, 10]
  ] as const
  for (const cipher of CIPHERS) {
    for (const [length, chunks] of cases) {
      const plaintext = randomBytes(length)
      const salt = randomBytes(32)
      const sealed = sealBuffer(key, plaintext, { cipher, chunkSize: CS, salt })
      t.equal(sealed.length, HEADER_LENGTH + length + 16 * chunks, `${cipher} ${length}: sealed length`)
      t.equal(sealedLength(length, CS), sealed.length)
      t.equal(chunkCount(length, CS), chunks)
      t.same(Buffer.from(openBuffer(key, sealed)), plaintext, `${cipher} ${length}: openBuffer`)

      const streamed = await run(createSealer(key, { plaintextLength: length, cipher, chunkSize: CS, salt }), plaintext, random)
      t.equal(streamed.error, undefined)
      t.ok(streamed.output.equals(sealed), `${cipher} ${length}: the streaming sealer writes the same bytes`)
      if (length > 0) {
        const opened = open(opener(key, decodeHeader(sealed), 0, length - 1), sealed.subarray(HEADER_LENGTH), random)
        t.equal(opened.error, undefined)
        t.ok(opened.output.equals(plaintext), `${cipher} ${length}: the streaming opener restores the plaintext`)
      }
    }
  }
})

t.test('defaults: ChaCha20-Poly1305, 64 KiB chunks, a fresh salt each time', async t => {
  const key = generateContentKey()
  const plaintext = randomBytes(3 * DEFAULT_CHUNK_SIZE + 5)
  const first = sealBuffer(key, plaintext)
  const second = sealBuffer(key, plaintext)
  const header = decodeHeader(first)
  t.equal(header.cipher, 'chacha20-poly1305')
  t.equal(header.chunkSize, 65536)
  t.equal(header.plaintextLength, plaintext.length)
  t.notSame(Buffer.from(header.salt), Buffer.from(decodeHeader(second).salt))
  t.notOk(Buffer.from(first).equals(second), 'same key and plaintext seal differently')
  t.ok(Buffer.from(openBuffer(key, second)).equals(plaintext))
  t.notSame(Buffer.from(generateContentKey()), Buffer.from(key))
})

t.test('the sealer insists on the declared plaintext length', async t => {
  const key = generateContentKey()
  const random = seededRandom(2)
  const longer = await run(createSealer(key, { plaintextLength: 100, chunkSize: CS }), randomBytes(101), random)
  t.type(longer.error, SealedFormatError)
  t.match((longer.error as Error).message, /longer than the declared plaintext length 100/)
  const shorter = await run(createSealer(key, { plaintextLength: 2000, chunkSize: CS }), randomBytes(1999), random)
  t.type(shorter.error, SealedFormatError)
  t.match((shorter.error as Error).message, /ended after 1999 of the declared 2000/)
})

t.test('bad parameters are refused', async t => {
  const salt = randomBytes(32)
  t.throws(() => encodeHeader({ cipher: 'aes-256-gcm', chunkSize: 1023, plaintextLength: 1, salt }), /chunk size 1023 is outside/)
  t.throws(() => encodeHeader({ cipher: 'aes-256-gcm', chunkSize: 16 * 1024 * 1024 + 1, plaintextLength: 1, salt }), SealedFormatError)
  t.throws(() => encodeHeader({ cipher: 'aes-128-cbc' as CipherName, chunkSize: CS, plaintextLength: 1, salt }), /unknown cipher/)
  t.throws(() => encodeHeader({ cipher: 'aes-256-gcm', chunkSize: CS, plaintextLength: 2 ** 53, salt }), /not an integer in 0..2\^53-1/)
  t.throws(
    () => encodeHeader({ cipher: 'aes-256-gcm', chunkSize: CS, plaintextLength: 1, salt: salt.subarray(1) }),
    /salt must be 32 bytes/
  )
  t.throws(() => sealBuffer(randomBytes(16), randomBytes(10)), /content key must be 32 bytes, got 16/)
  const header = encodeHeader({ cipher: 'aes-256-gcm', chunkSize: CS, plaintextLength: 3000, salt })
  t.same(decodeHeader(header.bytes), header, 'a header survives encoding and decoding')
  t.throws(() => opener(generateContentKey(), header, 10, 9), RangeError)
  t.throws(() => opener(generateContentKey(), header, 0, 3000), /not within 0-2999/)
  t.throws(() => chunkSpan(header, -1, 5), RangeError)
})

t.test('chunkSpan arithmetic', async t => {
  const header = encodeHeader({ cipher: 'aes-256-gcm', chunkSize: CS, plaintextLength: 3584, salt: randomBytes(32) })
  t.same(chunkSpan(header, 0, 0), { firstChunk: 0, lastChunk: 0, sealedOffset: 56, sealedLength: 1040 })
  t.same(chunkSpan(header, 1023, 1024), { firstChunk: 0, lastChunk: 1, sealedOffset: 56, sealedLength: 2080 })
  t.same(chunkSpan(header, 1024, 2047), { firstChunk: 1, lastChunk: 1, sealedOffset: 1096, sealedLength: 1040 })
  t.same(chunkSpan(header, 3000, 3583), { firstChunk: 2, lastChunk: 3, sealedOffset: 2136, sealedLength: 1568 })
  t.same(chunkSpan(header, 3583, 3583), { firstChunk: 3, lastChunk: 3, sealedOffset: 3176, sealedLength: 528 })
})

t.test('every kind of range opens to the plaintext slice', async t => {
  const key = generateContentKey()
  const plaintext = randomBytes(3.5 * CS)
  const boundaries = [
    0,
    1,
    CS - 1,
    CS,
    CS + 1,
    2 * CS - 1,
    2 * CS,
    2 * CS + 1,
    3 * CS - 1,
    3 * CS,
    3 * CS + 1,
    plaintext.length - 2,
    plaintext.length - 1
  ]
  const random = seededRandom(3)
  const ranges: [number, number][] = []
  for (const start of boundaries) for (const end of boundaries) if (start <= end) ranges.push([start, end])
  for (let i = 0; i < 60; i++) {
    const a = Math.floor(random() * plaintext.length)
    const b = Math.floor(random() * plaintext.length)
    ranges.push([Math.min(a, b), Math.max(a, b)])
  }
  for (const cipher of CIPHERS) {
    const sealed = Buffer.from(sealBuffer(key, plaintext, { cipher, chunkSize: CS }))
    const header = decodeHeader(sealed)
    let mismatches = 0
    for (const [start, end] of ranges) {
      const span = chunkSpan(header, start, end)
      const expected = plaintext.subarray(start, end + 1)
      const exact = open(opener(key, header, start, end), sealed.subarray(span.sealedOffset, span.sealedOffset + span.sealedLength), random)
      const rest = open(opener(key, header, start, end), sealed.subarray(span.sealedOffset), random)
      if (exact.error !== undefined || rest.error !== undefined || !exact.output.equals(expected) || !rest.output.equals(expected)) {
        mismatches++
        t.fail(`${cipher} range ${start}-${end}: ${String(exact.error ?? rest.error ?? 'wrong bytes')}`)
      }
    }
    t.equal(mismatches, 0, `${cipher}: ${ranges.length} ranges, fed the exact span and the rest of the object`)
  }
})

t.test('tampering is detected and no byte of a bad chunk is released', async t => {
  const key = generateContentKey()
  const plaintext = randomBytes(3.5 * CS)
  const sealed = Buffer.from(sealBuffer(key, plaintext, { cipher: 'aes-256-gcm', chunkSize: CS }))
  const chunkAt = (i: number) => HEADER_LENGTH + i * (CS + 16)
  const chunk = (i: number) => sealed.subarray(chunkAt(i), Math.min(sealed.length, chunkAt(i + 1)))
  const flip = (offset: number, bit = 0) => {
    const copy = Buffer.from(sealed)
    copy[offset] = (copy[offset] as number) ^ (1 << bit)
    return copy
  }
  const header = sealed.subarray(0, HEADER_LENGTH)
  const authFailure = (i: number) => new RegExp(`^chunk ${i} of 0\\.\\.\\d+ failed authentication`)

  const headerCases: [string, Buffer, RegExp][] = [
    ['magic', flip(0), /bad magic/],
    ['version', flip(8, 1), /unsupported version 3/],
    ['cipher id to 0', flip(9, 0), /unknown cipher id 0/],
    ['cipher id to ChaCha20', Buffer.from(sealed).fill(2, 9, 10), authFailure(0)],
    ['reserved', flip(11), /reserved bytes are not zero/],
    ['chunk size out of range', flip(14, 2), /chunk size 0 is outside/],
    ['chunk size still valid', flip(14, 3), authFailure(0)],
    ['length beyond 2^53', flip(16, 7), /exceeds 2\^53-1/],
    ['length', flip(23, 0), authFailure(0)],
    ['salt', flip(40, 5), authFailure(0)],
    ['short header', sealed.subarray(0, 55), /header needs 56 bytes, got 55/]
  ]
  for (const [name, bad, message] of headerCases) {
    t.throws(() => openBuffer(key, bad), { name: 'SealedFormatError', message }, `header ${name}`)
  }

  // [name, tampered object, message, index of the first bad chunk]
  const chunkCases: [string, Buffer, RegExp, number][] = [
    ['chunk 2 ciphertext', flip(chunkAt(2) + 500, 6), authFailure(2), 2],
    ['chunk 1 tag', flip(chunkAt(2) - 3), authFailure(1), 1],
    ['last chunk tag', flip(sealed.length - 1, 7), authFailure(3), 3],
    ['chunks 0 and 1 swapped', Buffer.concat([header, chunk(1), chunk(0), chunk(2), chunk(3)]), authFailure(0), 0],
    ['chunk 1 dropped', Buffer.concat([header, chunk(0), chunk(2), chunk(3)]), authFailure(1), 1],
    ['chunk 1 duplicated', Buffer.concat([header, chunk(0), chunk(1), chunk(1), chunk(2), chunk(3)]), authFailure(2), 2],
    ['truncated at a chunk boundary', sealed.subarray(0, chunkAt(3)), /^truncated: sealed data ends before chunk 3 of 0\.\.3$/, 3],
    [
      'truncated mid-chunk',
      sealed.subarray(0, chunkAt(2) + 100),
      /^truncated: sealed data ends inside chunk 2 of 0\.\.3 \(100 of 1040 bytes\)$/,
      2
    ],
    ['trailing garbage', Buffer.concat([sealed, Buffer.of(0)]), /^trailing bytes after the last chunk \(chunk 3 of 0\.\.3\)$/, 4]
  ]
  const random = seededRandom(4)
  for (const [name, bad, message, firstBad] of chunkCases) {
    t.throws(() => openBuffer(key, bad), { name: 'SealedFormatError', message }, `openBuffer: ${name}`)
    const full = open(opener(key, decodeHeader(bad), 0, plaintext.length - 1), bad.subarray(HEADER_LENGTH), random)
    t.type(full.error, SealedFormatError, `opener: ${name}`)
    t.match((full.error as Error).message, message)
    t.ok(
      full.output.equals(plaintext.subarray(0, Math.min(firstBad * CS, plaintext.length))),
      `opener: ${name}: only the good chunks before it were released`
    )
    if (firstBad >= 2) {
      const start = CS + 300
      const partial = open(opener(key, decodeHeader(bad), start, plaintext.length - 1), bad.subarray(chunkAt(1)), random)
      t.match((partial.error as Error).message, message)
      t.ok(partial.output.equals(plaintext.subarray(start, Math.min(firstBad * CS, plaintext.length))), `opener from mid-chunk 1: ${name}`)
    }
  }

  t.throws(() => openBuffer(generateContentKey(), sealed), { name: 'SealedFormatError', message: authFailure(0) }, 'wrong key')
  const wrongKey = open(opener(generateContentKey(), decodeHeader(sealed), 0, 10), sealed.subarray(HEADER_LENGTH), random)
  t.type(wrongKey.error, SealedFormatError)
  t.equal(wrongKey.output.length, 0, 'a wrong key releases nothing')

  const empty = Buffer.from(sealBuffer(key, new Uint8Array(0), { chunkSize: CS }))
  t.equal(openBuffer(key, empty).length, 0)
  t.throws(
    () => openBuffer(key, empty.subarray(0, HEADER_LENGTH)),
    /ends before chunk 0 of 0\.\.0/,
    'an empty plaintext still needs its chunk'
  )
  t.throws(() => openBuffer(key, Buffer.concat([empty, chunk(3)])), /trailing bytes/)
})
