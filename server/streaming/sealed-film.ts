import { Readable, addAbortSignal, pipeline } from 'node:stream'
import type { Helia } from 'helia'
import type { CID } from 'multiformats/cid'
import { HEADER_LENGTH, checkContentKey, chunkSpan, decodeHeader, sealedLength, type SealedHeader } from '../sealing/format.ts'
import { createOpener } from '../sealing/open.ts'
import { fileSize, readBytes, readRange } from '../storage/content.ts'

export class SealedFilmError extends Error {
  override name = 'SealedFilmError'
}

export interface SealedFilm {
  cid: CID
  header: SealedHeader
  plaintextLength: number
  /** Plaintext bytes start..end (inclusive), decrypted chunk by chunk; errors before any byte of a bad chunk. */
  createPlaintextStream(start: number, end: number, signal?: AbortSignal): Readable
}

/** Reads and checks the header once; streams then read only the sealed chunks that hold their range. */
export async function openSealedFilm(helia: Helia, cid: CID, contentKey: Uint8Array): Promise<SealedFilm> {
  checkContentKey(contentKey)
  const size = await fileSize(helia, cid)
  if (size < HEADER_LENGTH) throw new SealedFilmError(`${cid} holds ${size} bytes, too few for a sealed header`)
  const header = decodeHeader(await readBytes(helia, cid, { offset: 0, length: HEADER_LENGTH }))
  const expected = sealedLength(header.plaintextLength, header.chunkSize)
  if (size !== expected) {
    throw new SealedFilmError(`${cid} holds ${size} bytes but its header describes a sealed object of ${expected} bytes`)
  }
  return {
    cid,
    header,
    plaintextLength: header.plaintextLength,
    createPlaintextStream(start, end, signal) {
      const span = chunkSpan(header, start, end)
      const opener = createOpener(contentKey, header, { start, end })
      const reads = new AbortController()
      // readRange reads a few blocks ahead by itself; the stream buffers no more than one of them.
      const sealed = Readable.from(
        readRange(helia, cid, { offset: span.sealedOffset, length: span.sealedLength, signal: reads.signal }),
        { objectMode: false, highWaterMark: 0 })
      // pipeline destroys both streams when either fails (a read error, a chunk that fails
      // authentication, the consumer going away); the abort then stops the reads in flight.
      pipeline(sealed, opener, () => { reads.abort() })
      if (signal != null) addAbortSignal(signal, opener)
      return opener
    }
  }
}
