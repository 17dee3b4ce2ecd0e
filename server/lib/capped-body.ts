// Answers from other machines (a box's block route, a node's challenge answer) are read with a cap: a
// body that runs past it is cut off where it crosses the cap, so a hostile server never makes the
// reader hold more than the cap, whatever it declares or sends.

export class BodyTooLargeError extends Error {
  override name = 'BodyTooLargeError'
}

/**
 * The body (a fetch Response's body, or a node:http response) read into one buffer, at most `maxBytes`
 * of it: past that the stream is cancelled (leaving the loop returns the iterator, which cancels a
 * web stream and destroys a node stream) and BodyTooLargeError is thrown.
 */
export async function readCappedBody(
  body: AsyncIterable<Uint8Array> | ReadableStream<Uint8Array> | null,
  maxBytes: number
): Promise<Buffer> {
  const parts: Uint8Array[] = []
  let length = 0
  if (body !== null) {
    // Node's web streams are async iterable; the global ReadableStream type does not say so
    for await (const part of body as AsyncIterable<Uint8Array>) {
      length += part.byteLength
      if (length > maxBytes) throw new BodyTooLargeError(`an answer of more than ${maxBytes} bytes`)
      parts.push(part)
    }
  }
  return Buffer.concat(parts, length)
}
