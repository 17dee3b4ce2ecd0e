// The release key: an Ed25519 key pair. Its private half signs release manifests on the build machine
// (a 0600 PKCS#8 PEM file); its public half (SPKI PEM) ships in the image at /etc/seed-one/release-key.pub.
import { createHash, createPrivateKey, createPublicKey, generateKeyPairSync, type KeyObject } from 'node:crypto'
import { readFile, writeFile } from 'node:fs/promises'
import { readSecretFile, writeSecretFile } from '../identity/secret-file.ts'
import { pathExists } from './path-exists.ts'
import { UpdateError } from './update-error.ts'

/** A short fingerprint of a public key (sha256 of its SPKI DER, 16 hex digits), to name it in messages. */
export function releaseKeyId(key: KeyObject): string {
  const publicKey = key.type === 'private' ? createPublicKey(key) : key
  return createHash('sha256')
    .update(publicKey.export({ type: 'spki', format: 'der' }))
    .digest('hex')
    .slice(0, 16)
}

/** Makes a release key pair: the private key at `file` (0600) and the public key at `file.pub`. Never overwrites. */
export async function createReleaseKey(file: string): Promise<{ publicFile: string; keyId: string }> {
  const publicFile = `${file}.pub`
  for (const f of [file, publicFile])
    if (await pathExists(f)) throw new UpdateError(`${f} already exists: a release key is never overwritten`)
  const { privateKey, publicKey } = generateKeyPairSync('ed25519')
  await writeSecretFile(file, Buffer.from(privateKey.export({ type: 'pkcs8', format: 'pem' })))
  await writeFile(publicFile, publicKey.export({ type: 'spki', format: 'pem' }), { flag: 'wx', mode: 0o644 })
  return { publicFile, keyId: releaseKeyId(publicKey) }
}

function ed25519(key: KeyObject, file: string): KeyObject {
  if (key.asymmetricKeyType !== 'ed25519') throw new UpdateError(`${file} is a ${key.asymmetricKeyType} key; release keys are Ed25519`)
  return key
}

export async function loadReleasePrivateKey(file: string): Promise<KeyObject> {
  const pem = await readSecretFile(file)
  if (pem === undefined) throw new UpdateError(`no release key at ${file} (make one with \`seed-one release-key ${file}\`)`)
  try {
    return ed25519(createPrivateKey(Buffer.from(pem)), file)
  } catch (err) {
    if (err instanceof UpdateError) throw err
    throw new UpdateError(`${file} is not a PEM private key: ${(err as Error).message}`)
  }
}

export async function loadReleasePublicKey(file: string): Promise<KeyObject> {
  let pem: string
  try {
    pem = await readFile(file, 'utf8')
  } catch (err) {
    throw new UpdateError(`cannot read the release public key ${file}: ${(err as Error).message}`)
  }
  // createPublicKey would derive a public key from a private one: the box must never hold the private half
  if (pem.includes('PRIVATE KEY')) throw new UpdateError(`${file} holds a private key: a box needs only the public half (the .pub file)`)
  try {
    return ed25519(createPublicKey(pem), file)
  } catch (err) {
    if (err instanceof UpdateError) throw err
    throw new UpdateError(`${file} is not a PEM public key: ${(err as Error).message}`)
  }
}
