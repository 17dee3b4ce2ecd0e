import t from 'tap'
import { generateKeyPairSync, randomBytes } from 'node:crypto'
import {
  KeyWrapError,
  generateX25519KeyPair,
  unwrapKey,
  wrapKey,
  x25519PublicKeyFromRaw,
  x25519PublicKeyToRaw
} from '../server/sealing/wrap.ts'
import type { WrappedKey } from '../server/wire/custodian-protocol.ts'

const CONTEXT = 'film:1:device:12D3KooWExample'

/** Flips one bit of a base64url field's bytes and re-encodes it. */
function flipped(field: string, byteIndex: number): string {
  const bytes = Buffer.from(field, 'base64url')
  bytes[byteIndex] = (bytes[byteIndex] as number) ^ 0x01
  return bytes.toString('base64url')
}

t.test('a wrapped key unwraps with the device key and the same context', async t => {
  const device = generateX25519KeyPair()
  t.equal(device.publicKey.length, 32)
  t.same(Buffer.from(x25519PublicKeyToRaw(device.privateKey)), Buffer.from(device.publicKey), 'public key derived from the private key')
  const contentKey = randomBytes(32)
  const wrapped = wrapKey(contentKey, device.publicKey, CONTEXT)
  t.equal(wrapped.version, 1)
  t.equal(Buffer.from(wrapped.ephemeralPublicKey, 'base64url').length, 32)
  t.equal(Buffer.from(wrapped.nonce, 'base64url').length, 12)
  t.equal(Buffer.from(wrapped.ciphertext, 'base64url').length, 48)
  t.notOk(JSON.stringify(wrapped).includes(contentKey.toString('base64url')), 'the key does not appear in clear')
  const roundTripped = JSON.parse(JSON.stringify(wrapped)) as WrappedKey
  t.same(Buffer.from(unwrapKey(roundTripped, device.privateKey, CONTEXT)), contentKey)
})

t.test('each wrap uses a fresh ephemeral key and nonce', async t => {
  const device = generateX25519KeyPair()
  const contentKey = randomBytes(32)
  const first = wrapKey(contentKey, device.publicKey, CONTEXT)
  const second = wrapKey(contentKey, device.publicKey, CONTEXT)
  t.not(first.ephemeralPublicKey, second.ephemeralPublicKey)
  t.not(first.nonce, second.nonce)
  t.not(first.ciphertext, second.ciphertext)
  t.same(Buffer.from(unwrapKey(second, device.privateKey, CONTEXT)), contentKey)
})

t.test('wrong key, wrong context or modified data is refused', async t => {
  const device = generateX25519KeyPair()
  const wrapped = wrapKey(randomBytes(32), device.publicKey, CONTEXT)
  const authFailure = { name: 'KeyWrapError', message: /failed authentication/ }
  t.throws(() => unwrapKey(wrapped, generateX25519KeyPair().privateKey, CONTEXT), authFailure, 'another device')
  t.throws(() => unwrapKey(wrapped, device.privateKey, 'film:2:device:12D3KooWExample'), authFailure, 'another film')
  t.throws(() => unwrapKey(wrapped, device.privateKey, ''), authFailure, 'empty context')
  t.throws(
    () => unwrapKey({ ...wrapped, ciphertext: flipped(wrapped.ciphertext, 5) }, device.privateKey, CONTEXT),
    authFailure,
    'ciphertext'
  )
  t.throws(() => unwrapKey({ ...wrapped, ciphertext: flipped(wrapped.ciphertext, 40) }, device.privateKey, CONTEXT), authFailure, 'tag')
  t.throws(() => unwrapKey({ ...wrapped, nonce: flipped(wrapped.nonce, 0) }, device.privateKey, CONTEXT), authFailure, 'nonce')
  t.throws(
    () => unwrapKey({ ...wrapped, ephemeralPublicKey: flipped(wrapped.ephemeralPublicKey, 3) }, device.privateKey, CONTEXT),
    KeyWrapError,
    'ephemeral key'
  )
  const other = wrapKey(randomBytes(32), device.publicKey, CONTEXT)
  t.throws(
    () => unwrapKey({ ...wrapped, ephemeralPublicKey: other.ephemeralPublicKey }, device.privateKey, CONTEXT),
    authFailure,
    'ephemeral key of another wrap'
  )
})

t.test('malformed input gets a clear error', async t => {
  const device = generateX25519KeyPair()
  const wrapped = wrapKey(randomBytes(32), device.publicKey, CONTEXT)
  t.throws(() => unwrapKey({ ...wrapped, version: 2 as 1 }, device.privateKey, CONTEXT), {
    name: 'KeyWrapError',
    message: /unsupported version 2/
  })
  t.throws(() => unwrapKey({ ...wrapped, nonce: wrapped.nonce.slice(2) }, device.privateKey, CONTEXT), /nonce must be 12 bytes/)
  t.throws(
    () => unwrapKey({ ...wrapped, ciphertext: `${wrapped.ciphertext}==` }, device.privateKey, CONTEXT),
    /ciphertext must be 48 bytes in unpadded base64url/
  )
  t.throws(
    () => unwrapKey({ ...wrapped, ephemeralPublicKey: 42 as unknown as string }, device.privateKey, CONTEXT),
    /ephemeralPublicKey must be 32 bytes/
  )
  t.throws(() => wrapKey(randomBytes(16), device.publicKey, CONTEXT), {
    name: 'KeyWrapError',
    message: /content key must be 32 bytes, got 16/
  })
  t.throws(() => wrapKey(randomBytes(32), device.publicKey.subarray(0, 31), CONTEXT), /X25519 public key is 32 bytes, got 31/)
  t.throws(
    () => wrapKey(randomBytes(32), new Uint8Array(32), CONTEXT),
    { name: 'KeyWrapError', message: /key agreement failed/ },
    'a low-order point is refused'
  )
  t.throws(() => x25519PublicKeyToRaw(generateKeyPairSync('ed25519').publicKey), /expected an X25519 key, got ed25519/)
  t.same(Buffer.from(x25519PublicKeyToRaw(x25519PublicKeyFromRaw(device.publicKey))), Buffer.from(device.publicKey))
})
