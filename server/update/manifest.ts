// The signed release manifest (format: RELEASE.md). The signature covers the exact bytes of `payload`,
// a JSON text kept as a string inside the manifest file, so no re-serialisation can change what was signed.
import { sign, verify, type KeyObject } from 'node:crypto'
import { Ajv } from 'ajv'
import { releaseKeyId } from './release-key.ts'
import { UpdateError } from './update-error.ts'
import { VERSION_PATTERN } from './version-order.ts'

export const RELEASE_FORMAT = 'seed-one-release/1'
/** A manifest file is small: anything bigger is not one (and is not read into memory whole). */
export const MANIFEST_MAX_BYTES = 64 * 1024
const TARBALL_MAX_BYTES = 4 * 1024 ** 3

/** What the signed payload says about one release. */
export interface ReleaseManifest {
  format: typeof RELEASE_FORMAT
  version: string
  /** The tarball's file name, found next to the manifest (same folder, or same URL path). */
  file: string
  size: number
  sha256: string
  /** When the release was made (ISO 8601, UTC). */
  created: string
}

/** The manifest file: the payload text, the signature over its UTF-8 bytes, and which key made it. */
export interface SignedManifest {
  payload: string
  keyId: string
  signature: string
}

const ajv = new Ajv({ allErrors: true })

const validateEnvelope = ajv.compile<SignedManifest>({
  type: 'object',
  additionalProperties: false,
  required: ['payload', 'keyId', 'signature'],
  properties: {
    payload: { type: 'string', maxLength: MANIFEST_MAX_BYTES },
    keyId: { type: 'string', pattern: '^[0-9a-f]{16}$' },
    signature: { type: 'string', pattern: '^[A-Za-z0-9_-]{86}$' }
  }
})

const validateManifest = ajv.compile<ReleaseManifest>({
  type: 'object',
  additionalProperties: false,
  required: ['format', 'version', 'file', 'size', 'sha256', 'created'],
  properties: {
    format: { type: 'string', const: RELEASE_FORMAT },
    version: { type: 'string', pattern: VERSION_PATTERN },
    file: { type: 'string', pattern: '^[A-Za-z0-9][A-Za-z0-9._-]*\\.tar\\.gz$', maxLength: 200 },
    size: { type: 'integer', minimum: 1, maximum: TARBALL_MAX_BYTES },
    sha256: { type: 'string', pattern: '^[0-9a-f]{64}$' },
    created: { type: 'string', pattern: '^\\d{4}-\\d{2}-\\d{2}T\\d{2}:\\d{2}:\\d{2}(\\.\\d+)?Z$' }
  }
})

export const tarballName = (version: string): string => `seed-one-${version}.tar.gz`
export const manifestName = (version: string): string => `seed-one-${version}.release.json`

/** The manifest file's text for `manifest`, signed with the release private key. */
export function signManifest(manifest: ReleaseManifest, privateKey: KeyObject): string {
  if (!validateManifest(manifest)) throw new UpdateError(`invalid manifest: ${ajv.errorsText(validateManifest.errors)}`)
  const payload = JSON.stringify(manifest)
  const signature = sign(null, Buffer.from(payload, 'utf8'), privateKey).toString('base64url')
  const signed: SignedManifest = { payload, keyId: releaseKeyId(privateKey), signature }
  return `${JSON.stringify(signed, null, 2)}\n`
}

/**
 * Checks a manifest file against the box's release public key, and only then reads what it says.
 * Throws UpdateError naming what is wrong; returns the manifest when the signature holds.
 */
export function verifyManifest(text: string, publicKey: KeyObject): ReleaseManifest {
  let envelope: unknown
  try {
    envelope = JSON.parse(text)
  } catch {
    throw new UpdateError('the manifest is not JSON')
  }
  if (!validateEnvelope(envelope))
    throw new UpdateError(`the manifest is not a signed release manifest: ${ajv.errorsText(validateEnvelope.errors)}`)
  const trusted = releaseKeyId(publicKey)
  if (!verify(null, Buffer.from(envelope.payload, 'utf8'), publicKey, Buffer.from(envelope.signature, 'base64url'))) {
    throw new UpdateError(
      envelope.keyId === trusted
        ? `bad signature: the manifest was altered or damaged after release key ${trusted} signed it`
        : `bad signature: the manifest names release key ${envelope.keyId}, this box trusts only ${trusted}`
    )
  }
  let manifest: unknown
  try {
    manifest = JSON.parse(envelope.payload)
  } catch {
    throw new UpdateError('the signed payload is not JSON')
  }
  if (!validateManifest(manifest))
    throw new UpdateError(`the signed payload is not a ${RELEASE_FORMAT} manifest: ${ajv.errorsText(validateManifest.errors)}`)
  return manifest
}
