// Reads a release from where its manifest is: a local path or an http(s) URL. The tarball is found
// next to the manifest and streamed into a temporary file, its size and sha256 checked on the way.
import { createHash } from 'node:crypto'
import { createReadStream } from 'node:fs'
import { open } from 'node:fs/promises'
import path from 'node:path'
import { MANIFEST_MAX_BYTES, type ReleaseManifest } from './manifest.ts'
import { UpdateError } from './update-error.ts'

/** A download that receives nothing for this long gives up. */
const IDLE_TIMEOUT_MS = 60_000

export interface ReleaseSource {
  /** How the person named it (for messages). */
  name: string
  /** Where the tarball called `file` is: next to the manifest. */
  tarball(file: string): string
}

const isUrl = (location: string): boolean => /^https?:\/\//i.test(location)

export function releaseSource(location: string): ReleaseSource {
  if (isUrl(location)) return { name: location, tarball: file => new URL(file, location).href }
  const manifestPath = path.resolve(location)
  return { name: manifestPath, tarball: file => path.join(path.dirname(manifestPath), file) }
}

/** The bytes at a path or URL, as a stream of chunks; a stall of IDLE_TIMEOUT_MS aborts it. */
async function* chunksOf(location: string): AsyncGenerator<Uint8Array> {
  if (!isUrl(location)) {
    yield* createReadStream(location)
    return
  }
  const controller = new AbortController()
  const idle = setTimeout(() => controller.abort(new Error(`nothing received for ${IDLE_TIMEOUT_MS / 1000} s`)), IDLE_TIMEOUT_MS)
  try {
    const response = await fetch(location, { signal: controller.signal, redirect: 'follow' })
    if (!response.ok || response.body === null) throw new UpdateError(`GET ${location}: HTTP ${response.status}`)
    const reader = response.body.getReader()
    for (let part = await reader.read(); !part.done; part = await reader.read()) {
      idle.refresh()
      yield part.value
    }
  } finally {
    clearTimeout(idle)
  }
}

/** The manifest file's text; refuses anything larger than a manifest can be. */
export async function readManifestText(location: string): Promise<string> {
  const parts: Uint8Array[] = []
  let size = 0
  try {
    for await (const chunk of chunksOf(location)) {
      size += chunk.length
      if (size > MANIFEST_MAX_BYTES) throw new UpdateError(`${location} is larger than ${MANIFEST_MAX_BYTES} bytes: not a manifest`)
      parts.push(chunk)
    }
  } catch (err) {
    if (err instanceof UpdateError) throw err
    throw new UpdateError(`cannot read the manifest ${location}: ${(err as Error).message}`)
  }
  return Buffer.concat(parts).toString('utf8')
}

/**
 * Streams the tarball into `destination` (a file in a private temporary folder) and checks it against
 * the signed manifest: no more and no fewer bytes than `size`, then the sha256.
 */
export async function downloadTarball(location: string, manifest: ReleaseManifest, destination: string): Promise<void> {
  const hash = createHash('sha256')
  let received = 0
  const out = await open(destination, 'wx', 0o600)
  try {
    for await (const chunk of chunksOf(location)) {
      received += chunk.length
      if (received > manifest.size)
        throw new UpdateError(`${location} is larger than the ${manifest.size} bytes the manifest says: refused`)
      hash.update(chunk)
      await out.write(chunk)
    }
  } catch (err) {
    if (err instanceof UpdateError) throw err
    throw new UpdateError(`cannot read the tarball ${location}: ${(err as Error).message}`)
  } finally {
    await out.close()
  }
  if (received !== manifest.size) {
    throw new UpdateError(`${location} is ${received} bytes, the manifest says ${manifest.size}: truncated or replaced, refused`)
  }
  const sha256 = hash.digest('hex')
  if (sha256 !== manifest.sha256) throw new UpdateError(`${location} has sha256 ${sha256}, the manifest says ${manifest.sha256}: refused`)
}
