// Wraps a content key to a device's X25519 key: ephemeral ECDH → HKDF-SHA256 → AES-256-GCM
// (specified in server/sealing/SPEC.md, "Key wrap").
import {
  createCipheriv,
  createDecipheriv,
  createPublicKey,
  diffieHellman,
  generateKeyPairSync,
  hkdfSync,
  randomBytes,
  type KeyObject
} from 'node:crypto'
import type { WrappedKey } from '../wire/custodian-protocol.ts'

export class KeyWrapError extends Error {
  constructor(message: string) {
    super(message)
    this.name = 'KeyWrapError'
  }
}

const WRAP_VERSION = 1
const KEY_LENGTH = 32
const PUBLIC_KEY_LENGTH = 32
const NONCE_LENGTH = 12
const TAG_LENGTH = 16
const INFO_PREFIX = Buffer.from('seed-one/key-wrap/v1\0', 'ascii')

export function x25519PublicKeyFromRaw(raw: Uint8Array): KeyObject {
  if (raw.length !== PUBLIC_KEY_LENGTH) throw new KeyWrapError(`an X25519 public key is ${PUBLIC_KEY_LENGTH} bytes, got ${raw.length}`)
  return createPublicKey({ key: { kty: 'OKP', crv: 'X25519', x: Buffer.from(raw).toString('base64url') }, format: 'jwk' })
}

/** The raw 32-byte public key of an X25519 public or private KeyObject. */
export function x25519PublicKeyToRaw(key: KeyObject): Uint8Array {
  const publicKey = key.type === 'private' ? createPublicKey(key) : key
  if (publicKey.asymmetricKeyType !== 'x25519') throw new KeyWrapError(`expected an X25519 key, got ${publicKey.asymmetricKeyType}`)
  return Buffer.from(publicKey.export({ format: 'jwk' }).x as string, 'base64url')
}

export function generateX25519KeyPair(): { publicKey: Uint8Array; privateKey: KeyObject } {
  const { publicKey, privateKey } = generateKeyPairSync('x25519')
  return { publicKey: x25519PublicKeyToRaw(publicKey), privateKey }
}

/** HKDF-SHA256(ikm = X25519 shared secret, salt = epk || recipient pk, info = prefix || context) → AES-256 key. */
function wrappingKey(
  privateKey: KeyObject,
  publicKey: KeyObject,
  ephemeralRaw: Uint8Array,
  recipientRaw: Uint8Array,
  context: string
): Buffer {
  let shared: Buffer
  try {
    shared = diffieHellman({ privateKey, publicKey })
  } catch (err) {
    // OpenSSL refuses low-order public keys, whose shared secret would be all zeros.
    throw new KeyWrapError(`X25519 key agreement failed: ${(err as Error).message}`)
  }
  const salt = Buffer.concat([ephemeralRaw, recipientRaw])
  const info = Buffer.concat([INFO_PREFIX, Buffer.from(context, 'utf8')])
  return Buffer.from(hkdfSync('sha256', shared, salt, info, KEY_LENGTH))
}

export function wrapKey(contentKey: Uint8Array, recipientPublicKey: Uint8Array, context: string): WrappedKey {
  if (contentKey.length !== KEY_LENGTH) throw new KeyWrapError(`the content key must be ${KEY_LENGTH} bytes, got ${contentKey.length}`)
  const recipient = x25519PublicKeyFromRaw(recipientPublicKey)
  const ephemeral = generateX25519KeyPair()
  const key = wrappingKey(ephemeral.privateKey, recipient, ephemeral.publicKey, recipientPublicKey, context)
  const nonce = randomBytes(NONCE_LENGTH)
  const cipher = createCipheriv('aes-256-gcm', key, nonce, { authTagLength: TAG_LENGTH }).setAAD(Buffer.from(context, 'utf8'))
  const ciphertext = Buffer.concat([cipher.update(contentKey), cipher.final(), cipher.getAuthTag()])
  return {
    version: WRAP_VERSION,
    ephemeralPublicKey: Buffer.from(ephemeral.publicKey).toString('base64url'),
    nonce: nonce.toString('base64url'),
    ciphertext: ciphertext.toString('base64url')
  }
}

function decodeField(wrapped: WrappedKey, field: 'ephemeralPublicKey' | 'nonce' | 'ciphertext', length: number): Buffer {
  const text = wrapped[field]
  const bytes = typeof text === 'string' ? Buffer.from(text, 'base64url') : Buffer.alloc(0)
  if (typeof text !== 'string' || bytes.toString('base64url') !== text || bytes.length !== length) {
    throw new KeyWrapError(`wrapped key: ${field} must be ${length} bytes in unpadded base64url`)
  }
  return bytes
}

export function unwrapKey(wrapped: WrappedKey, recipientPrivateKey: KeyObject, context: string): Uint8Array {
  if (wrapped === null || typeof wrapped !== 'object' || wrapped.version !== WRAP_VERSION) {
    throw new KeyWrapError(`wrapped key: unsupported version ${JSON.stringify((wrapped as { version?: unknown } | null)?.version)}`)
  }
  const ephemeralRaw = decodeField(wrapped, 'ephemeralPublicKey', PUBLIC_KEY_LENGTH)
  const nonce = decodeField(wrapped, 'nonce', NONCE_LENGTH)
  const sealed = decodeField(wrapped, 'ciphertext', KEY_LENGTH + TAG_LENGTH)
  const key = wrappingKey(
    recipientPrivateKey,
    x25519PublicKeyFromRaw(ephemeralRaw),
    ephemeralRaw,
    x25519PublicKeyToRaw(recipientPrivateKey),
    context
  )
  const decipher = createDecipheriv('aes-256-gcm', key, nonce, { authTagLength: TAG_LENGTH }).setAAD(Buffer.from(context, 'utf8'))
  decipher.setAuthTag(sealed.subarray(KEY_LENGTH))
  try {
    return Buffer.concat([decipher.update(sealed.subarray(0, KEY_LENGTH)), decipher.final()])
  } catch {
    throw new KeyWrapError('wrapped key failed authentication: wrong device key, wrong context, or modified data')
  }
}
