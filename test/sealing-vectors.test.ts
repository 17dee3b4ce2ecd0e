// The test vectors of server/sealing/SPEC.md, recomputed here from the spec with bare node:crypto.
import t from 'tap'
import { createCipheriv, createHash, createHmac, type CipherGCM } from 'node:crypto'
import { readFileSync } from 'node:fs'
import { deriveChunkKey, decodeHeader, type CipherName } from '../server/sealing/format.ts'
import { sealBuffer } from '../server/sealing/seal.ts'
import { openBuffer } from '../server/sealing/open.ts'

const fixtures = new URL('./fixtures/sealing/', import.meta.url)
const spec = readFileSync(new URL('../server/sealing/SPEC.md', import.meta.url), 'utf8')

const contentKey = Buffer.from(Array.from({ length: 32 }, (_, i) => i))
const salt = Buffer.from(Array.from({ length: 32 }, (_, i) => 0xa0 + i))
const chunkSize = 1024
const pattern = (length: number) => Buffer.from(Array.from({ length }, (_, i) => i % 251))
const cipherIds: Record<CipherName, number> = { 'aes-256-gcm': 1, 'chacha20-poly1305': 2 }

/** RFC 5869 HKDF-SHA256 written out with HMAC, for a 32-byte output (one block). */
function hkdf32(ikm: Buffer, hkdfSalt: Buffer, info: Buffer): Buffer {
  const prk = createHmac('sha256', hkdfSalt).update(ikm).digest()
  return createHmac('sha256', prk)
    .update(Buffer.concat([info, Buffer.of(1)]))
    .digest()
}

function u32(value: number): Buffer {
  const bytes = Buffer.alloc(4)
  bytes.writeUInt32BE(value)
  return bytes
}

function u64(value: number): Buffer {
  const bytes = Buffer.alloc(8)
  bytes.writeBigUInt64BE(BigInt(value))
  return bytes
}

/** The sealed object exactly as SPEC.md describes it, built without the implementation. */
function sealFromSpec(cipher: CipherName, plaintext: Buffer): Buffer {
  const id = cipherIds[cipher]
  const header = Buffer.concat([Buffer.from('SEEDSEAL'), Buffer.of(1, id, 0, 0), u32(chunkSize), u64(plaintext.length), salt])
  const key = hkdf32(contentKey, salt, Buffer.concat([Buffer.from('seed-one/sealed/v1'), Buffer.of(id)]))
  const n = Math.max(1, Math.ceil(plaintext.length / chunkSize))
  const parts = [header]
  for (let i = 0; i < n; i++) {
    const cipherObject = createCipheriv(cipher, key, Buffer.concat([Buffer.alloc(4), u64(i)]), { authTagLength: 16 } as object) as CipherGCM
    cipherObject.setAAD(Buffer.concat([header, u64(i), Buffer.of(i === n - 1 ? 1 : 0)]))
    parts.push(cipherObject.update(plaintext.subarray(i * chunkSize, (i + 1) * chunkSize)), cipherObject.final(), cipherObject.getAuthTag())
  }
  return Buffer.concat(parts)
}

for (const cipher of ['aes-256-gcm', 'chacha20-poly1305'] as const) {
  for (const [label, length] of [
    ['3000', 3000],
    ['empty', 0]
  ] as const) {
    const name = `${cipher}-${label}.hex`
    t.test(name, async t => {
      const fixture = Buffer.from(readFileSync(new URL(name, fixtures), 'utf8').replace(/\s+/g, ''), 'hex')
      const plaintext = pattern(length)
      t.equal(fixture.length, 56 + length + 16 * Math.max(1, Math.ceil(length / chunkSize)))
      t.ok(sealFromSpec(cipher, plaintext).equals(fixture), 'the spec, computed independently, gives the fixture')
      t.ok(Buffer.from(sealBuffer(contentKey, plaintext, { cipher, chunkSize, salt })).equals(fixture), 'sealBuffer gives the fixture')
      t.ok(Buffer.from(openBuffer(contentKey, fixture)).equals(plaintext), 'openBuffer restores the plaintext')
      const digest = createHash('sha256').update(fixture).digest('hex')
      t.ok(spec.includes(`| \`${name}\` | ${fixture.length} | \`${digest}\` |`), 'SPEC.md documents this file, its size and its SHA-256')
      const chunkKey = deriveChunkKey(contentKey, decodeHeader(fixture)).toString('hex')
      t.ok(spec.includes(chunkKey), 'SPEC.md documents the chunk key')
    })
  }
}
