import { createHash } from 'node:crypto'
import { promisify } from 'node:util'
import { gzip } from 'node:zlib'
import type { RegistryNode } from '../wire/monitor-protocol.ts'

const gzipAsync = promisify(gzip)

/** The registry answer as sent: its JSON text, an ETag naming that text, and the text gzipped (made once per text). */
export interface RegistryAnswer {
  json: string
  /**
   * The same registry text has the same tag, so a box that has it is answered 304. Weak, since the
   * plain and the gzipped answer share it (RFC 9110 8.8.3: a strong tag would name one coding).
   */
  etag: string
  gzipped(): Promise<Buffer>
}

/**
 * The registry answer of each poll, read fresh (so it is never stale), with the gzip of the last text
 * kept: each box polls every 30 s and the held lists make the text tens of MB at 10 000 nodes
 * (bench/monitor-scale.ts), so the monitor compresses a text once, not once per box.
 */
export function createRegistryAnswers(read: () => Promise<RegistryNode[]>): () => Promise<RegistryAnswer> {
  let last: RegistryAnswer | undefined
  return async () => {
    const json = JSON.stringify({ nodes: await read() })
    const etag = `W/"${createHash('sha256').update(json).digest('base64url').slice(0, 32)}"`
    if (last?.etag === etag) return last
    let compressed: Promise<Buffer> | undefined
    last = { json, etag, gzipped: () => (compressed ??= gzipAsync(json)) }
    return last
  }
}

/** Whether an If-None-Match header names `etag` (or is `*`), compared weakly as RFC 9110 13.1.2 says. */
export function matchesEtag(ifNoneMatch: string | undefined, etag: string): boolean {
  if (ifNoneMatch === undefined) return false
  return ifNoneMatch.split(',').some(tag => {
    const trimmed = tag.trim()
    return trimmed === '*' || trimmed.replace(/^W\//, '') === etag.replace(/^W\//, '')
  })
}

/** Whether an Accept-Encoding header takes gzip (named, or `*`, with a q above 0). */
export function acceptsGzip(acceptEncoding: string | undefined): boolean {
  if (acceptEncoding === undefined) return false
  return acceptEncoding.split(',').some(coding => {
    const [name, ...params] = coding.split(';').map(part => part.trim().toLowerCase())
    const q = params.find(p => p.startsWith('q='))
    return (name === 'gzip' || name === '*') && (q === undefined || Number(q.slice(2)) > 0)
  })
}
