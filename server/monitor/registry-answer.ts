import { createHash } from 'node:crypto'
import { promisify } from 'node:util'
import { gzip } from 'node:zlib'
import type { RegistryNode } from '../wire/monitor-protocol.ts'

const gzipAsync = promisify(gzip)
/**
 * CIDs are random base32, which Huffman coding shrinks and LZ matching hardly: level 1 gives 54.1% of
 * a registry's JSON in 121 ms of CPU, level 6 53.7% in 210 ms (6.4 MB of JSON, one core, this machine).
 */
const GZIP_LEVEL = 1

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
 * The registry answer of each poll, never stale: it is built from the store after the poll arrived. A
 * poll that arrives while a build runs waits for the next one, which every poll that arrived meanwhile
 * shares; so at most one build runs at a time however many boxes poll (at 10 000 nodes a build takes
 * most of a second of CPU and 333 polls arrive a second: bench/monitor-scale.ts). The gzip of the last
 * text is kept, so a text is compressed once, not once per box.
 */
export function createRegistryAnswers(read: () => Promise<RegistryNode[]>): () => Promise<RegistryAnswer> {
  let last: RegistryAnswer | undefined
  const build = async (): Promise<RegistryAnswer> => {
    const json = JSON.stringify({ nodes: await read() })
    const etag = `W/"${createHash('sha256').update(json).digest('base64url').slice(0, 32)}"`
    if (last?.etag === etag) return last
    let compressed: Promise<Buffer> | undefined
    last = { json, etag, gzipped: () => (compressed ??= gzipAsync(json, { level: GZIP_LEVEL })) }
    return last
  }
  return freshSingleFlight(build)
}

/**
 * `work` shared by callers: one run at a time, and a caller is answered by a run that started after it
 * called (one already running may have read the store before a write the caller must see).
 */
function freshSingleFlight<T>(work: () => Promise<T>): () => Promise<T> {
  let running: Promise<void> | undefined
  let queued: Promise<T> | undefined
  const run = (): Promise<T> => {
    const result = work()
    const settled = result.then(
      () => {},
      () => {}
    )
    running = settled
    // registered before any queued run's callback, so that one finds `running` cleared and takes its place
    void settled.then(() => {
      if (running === settled) running = undefined
    })
    return result
  }
  return () => {
    if (running === undefined) return run()
    queued ??= running.then(() => {
      queued = undefined
      return run()
    })
    return queued
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
