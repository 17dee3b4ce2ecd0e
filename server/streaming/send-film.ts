import { pipeline } from 'node:stream'
import type { ServerResponse } from 'node:http'
import type { FastifyReply, FastifyRequest } from 'fastify'
import { parseRangeHeader } from './range.ts'
import type { PlaintextStream } from '../library/sealed-film.ts'

export interface PlaintextSource {
  plaintextLength: number
  createPlaintextStream(start: number, end: number): PlaintextStream
}

/**
 * Sends a film's plaintext per RFC 9110: a single byte range → 206, an unsatisfiable one → 416,
 * none or an unparseable one → 200 with the whole film. HEAD gets the same status and headers without a body.
 *
 * The body is written on the raw response (the reply is hijacked) so that a failure after the
 * status line has been sent destroys the socket: the client sees a truncated body, never a clean
 * end. Headers set earlier through reply.header() are kept; onSend hooks do not run. The status line
 * waits for the range's first chunk to be read and authenticated, so a range that cannot even start
 * (its blocks did not arrive from the network in time, the film's header or that chunk is damaged)
 * is answered with that error instead.
 *
 * `cut` aborts when the film may no longer be played here (it was sold): before the status line the
 * answer is its reason; after it, the connection is reset mid-body, so the screen stops at once and
 * cannot take what it got for the whole film.
 */
export async function sendPlaintext(
  request: FastifyRequest,
  reply: FastifyReply,
  film: PlaintextSource,
  contentType: string,
  cut: AbortSignal
): Promise<FastifyReply> {
  const size = film.plaintextLength
  // Without a validator to compare If-Range with, the RFC requires ignoring Range (§13.1.5).
  const range = request.headers['if-range'] == null ? parseRangeHeader(request.headers.range, size) : { kind: 'full' as const }
  if (range.kind === 'unsatisfiable') {
    return reply.code(416).headers(representation(contentType)).header('content-range', `bytes */${size}`).send()
  }
  const { start, end } = range.kind === 'partial' ? range : { start: 0, end: size - 1 }
  const length = end - start + 1
  // A HEAD opens the range's first chunk too, so that it answers with the status a GET would.
  let body = length === 0 ? undefined : film.createPlaintextStream(start, end)
  try {
    await body?.firstPiece()
    cut.throwIfAborted()
  } catch (err) {
    body?.destroy()
    throw err // answered as an error: no header of the film's has been set yet
  }
  if (request.method === 'HEAD') {
    body?.destroy()
    body = undefined
  }
  reply
    .code(range.kind === 'partial' ? 206 : 200)
    .headers(representation(contentType))
    .header('content-length', length)
  if (range.kind === 'partial') reply.header('content-range', `bytes ${start}-${end}/${size}`)
  if (body === undefined) {
    commitHeaders(reply).end()
    return reply
  }

  // On an error or premature close, pipeline destroys both streams: the film stream stops its reads,
  // and the destroyed response closes the socket, so the client sees the body cut short.
  const res = commitHeaders(reply)
  // pipe() writes without a callback: this one frees each chunk once the socket has taken its bytes
  const plaintext = body
  const write = res.write.bind(res)
  res.write = ((chunk: Buffer) => write(chunk, () => plaintext.free(chunk))) as typeof res.write
  pipeline(body, res, err => {
    if (err == null) return
    if (cut.aborted) {
      request.log.info({ reason: (cut.reason as Error).message, range: `${start}-${end}` }, 'film stream cut')
    } else if ((err as NodeJS.ErrnoException).code === 'ERR_STREAM_PREMATURE_CLOSE') {
      request.log.debug({ err }, 'client went away during a film stream')
    } else {
      request.log.error({ err, req: request, range: `${start}-${end}` }, 'film stream failed; closing the connection')
    }
  })
  cut.addEventListener(
    'abort',
    () => {
      if (res.writableFinished) return // all sent: the connection may serve another request by now
      // a reset rather than a close: bytes still queued in the socket are dropped, not delivered
      if (res.socket !== null) res.socket.resetAndDestroy()
      else res.destroy()
    },
    { once: true }
  )
  return reply
}

function representation(contentType: string): Record<string, string> {
  return { 'accept-ranges': 'bytes', 'content-type': contentType }
}

/**
 * Takes the response over from Fastify and sends the status line and headers now, so that a later
 * failure can only ever truncate the body. (Fastify's automatic HEAD route would also replace our
 * Content-Length with 0 for a reply without a payload.)
 */
function commitHeaders(reply: FastifyReply): ServerResponse {
  const res = reply.raw
  reply.hijack()
  for (const [name, value] of Object.entries(reply.getHeaders())) {
    if (value !== undefined) res.setHeader(name, value)
  }
  res.writeHead(reply.statusCode)
  res.flushHeaders()
  return res
}
