// Where the fragments of a fragmented MP4 are, read from its front as publish writes it (ffmpeg's
// frag_keyframe+empty_moov+global_sidx): ftyp and moov (the init segment), then a sidx per track, the
// first (the video's) naming each moof+mdat fragment's size and duration; then the fragments. An HLS
// media playlist names them as byte ranges of the file (RFC 8216 §4.3.2.2, §4.3.2.5), so nothing is cut
// or stored anew. ISO/IEC 14496-12 §4.2 (boxes), §8.16.3 (sidx).

/** One fragment (moof and its mdat): where it is in the file and how long it plays. */
export interface Mp4Fragment {
  offset: number
  length: number
  seconds: number
}

export interface Mp4FragmentIndex {
  /** ftyp and moov: bytes 0 to initLength - 1. */
  initLength: number
  fragments: Mp4Fragment[]
}

/** Reads bytes start..end (inclusive) of the file. */
export type ReadBytes = (start: number, end: number) => Promise<Uint8Array>

/** The most bytes read from the front for the index: a sidx of 12 bytes a fragment, 2 s fragments, is 43 KB for a 2-hour film. */
export const MAX_INDEX_BYTES = 4 * 1024 * 1024
const FIRST_READ = 64 * 1024

export class Mp4IndexError extends Error {
  override name = 'Mp4IndexError'
}

/**
 * The fragment index of the MP4 of `size` bytes that `read` reads, or null when it is not a fragmented
 * MP4 with a sidx at the front (a plain MP4: its moov indexes the samples, not fragments).
 */
export async function readFragmentIndex(read: ReadBytes, size: number): Promise<Mp4FragmentIndex | null> {
  let head = await read(0, Math.min(size, FIRST_READ) - 1)
  for (;;) {
    const found = findIndex(head)
    if (typeof found !== 'number') return found
    if (found > size) return null
    if (found > MAX_INDEX_BYTES) throw new Mp4IndexError(`its index ends at byte ${found}, past the ${MAX_INDEX_BYTES} bytes read for it`)
    head = Buffer.concat([head, await read(head.length, found - 1)])
  }
}

/** The index from the file's first bytes; a number: the bytes the head must have to go on. */
function findIndex(head: Uint8Array): Mp4FragmentIndex | null | number {
  const view = new DataView(head.buffer, head.byteOffset, head.byteLength)
  let initLength = 0
  for (let offset = 0; ;) {
    if (offset + 16 > head.length) return offset + 16
    let size = view.getUint32(offset)
    const type = String.fromCharCode(...head.subarray(offset + 4, offset + 8))
    if (size === 1) size = Number(view.getBigUint64(offset + 8))
    if (size < 8) return null // 0: the box runs to the end of the file; below 8: not an MP4
    if (type === 'ftyp' || type === 'moov') initLength = offset + size
    else if (type === 'sidx') {
      if (offset + size > head.length) return offset + size
      return initLength === 0 ? null : { initLength, fragments: sidxFragments(view, offset, size) }
    } else if (type === 'moof' || type === 'mdat') return null
    offset += size
  }
}

/** The fragments a sidx box at `offset` names (each reference a moof+mdat, as ffmpeg writes them). */
function sidxFragments(view: DataView, offset: number, size: number): Mp4Fragment[] {
  const version = view.getUint8(offset + 8)
  const timescale = view.getUint32(offset + 16)
  let at = offset + 20
  const firstOffset = version === 0 ? view.getUint32(at + 4) : Number(view.getBigUint64(at + 8))
  at += version === 0 ? 8 : 16
  const count = view.getUint16(at + 2)
  at += 4
  if (at + count * 12 > offset + size) throw new Mp4IndexError(`its sidx names ${count} fragments in ${size} bytes`)
  if (timescale === 0) throw new Mp4IndexError('its sidx has a timescale of 0')
  const fragments: Mp4Fragment[] = []
  let position = offset + size + firstOffset
  for (let n = 0; n < count; n++, at += 12) {
    const reference = view.getUint32(at)
    if (reference >>> 31 === 1) throw new Mp4IndexError('its sidx points to further sidx boxes, which this reader does not follow')
    const length = reference & 0x7fffffff
    fragments.push({ offset: position, length, seconds: view.getUint32(at + 4) / timescale })
    position += length
  }
  return fragments
}
