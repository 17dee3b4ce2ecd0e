// RFC 6381 codecs strings of an MP4's streams, as a TV engine's canPlayType and
// MediaCapabilities take them: video from the decoder configuration box the MP4 carries (avcC, hvcC:
// ISO/IEC 14496-15), audio from ffprobe's codec and AAC profile.
import { open } from 'node:fs/promises'
import { MediaError, type MediaInfo } from './probe.ts'

/** Boxes that hold only boxes, and the bytes of fields before their first child. */
const CONTAINERS: Record<string, number> = { moov: 0, trak: 0, mdia: 0, minf: 0, stbl: 0, stsd: 8 }
/** Visual sample entries: 78 bytes of fields (ISO/IEC 14496-12 VisualSampleEntry) before their child boxes. */
const VIDEO_ENTRIES = new Set(['avc1', 'avc3', 'hvc1', 'hev1'])
const VISUAL_SAMPLE_ENTRY_BYTES = 78
/** Most bytes of a moov read: a 3-hour film's index is a few MiB. */
const MAX_MOOV_BYTES = 64 * 1024 * 1024

/** The codecs string of the first video stream of an MP4 (e.g. avc1.640028, hvc1.2.4.L153.B0). */
export async function videoCodecsString(file: string): Promise<string> {
  const entry = findVideoEntry(await readMoov(file))
  if (entry === undefined) throw new MediaError(`${file} has no H.264 or HEVC sample entry with its decoder configuration`)
  return entry.config.type === 'avcC' ? avcCodecs(entry.type, entry.config.body) : hevcCodecs(entry.type, entry.config.body)
}

/** AAC by its object type (LC 2, HE 5, HE v2 29); AC-3, E-AC-3 and MP3 by their MP4 names. */
export function audioCodecsString(track: MediaInfo['audio'][number]): string {
  if (track.codec === 'aac') return `mp4a.40.${{ 'HE-AAC': 5, 'HE-AACv2': 29 }[track.profile ?? ''] ?? 2}`
  const names: Record<string, string> = { ac3: 'ac-3', eac3: 'ec-3', mp3: 'mp4a.6B' }
  const name = names[track.codec]
  if (name === undefined) throw new MediaError(`no MP4 codecs string for ${track.codec} audio`)
  return name
}

/** avc1.PPCCLL: profile, constraint flags and level, the bytes after avcC's version (ISO/IEC 14496-15 E.3). */
function avcCodecs(type: string, avcC: Buffer): string {
  return `${type}.${avcC.subarray(1, 4).toString('hex')}`
}

/**
 * hvc1.[space]profile.compatibility.tier+level.constraints (ISO/IEC 14496-15 E.3): the 32 compatibility
 * flags in reverse bit order as hex, the 6 constraint bytes as hex with trailing zero bytes left off.
 */
function hevcCodecs(type: string, hvcC: Buffer): string {
  const space = ['', 'A', 'B', 'C'][hvcC[1] >> 6]
  const tier = hvcC[1] & 0x20 ? 'H' : 'L'
  const profile = hvcC[1] & 0x1f
  let compatibility = 0
  for (let bit = 0; bit < 32; bit++) if (hvcC.readUInt32BE(2) & (1 << bit)) compatibility |= 1 << (31 - bit)
  const constraints = [...hvcC.subarray(6, 12)]
  while (constraints.at(-1) === 0) constraints.pop()
  const tail = constraints.map(b => `.${b.toString(16).toUpperCase()}`).join('')
  return `${type}.${space}${profile}.${(compatibility >>> 0).toString(16).toUpperCase()}.${tier}${hvcC[12]}${tail}`
}

type Box = { type: string; body: Buffer }

function* boxes(bytes: Buffer): Generator<Box> {
  let offset = 0
  while (offset + 8 <= bytes.length) {
    const size = bytes.readUInt32BE(offset)
    if (size < 8 || offset + size > bytes.length) return
    yield { type: bytes.toString('latin1', offset + 4, offset + 8), body: bytes.subarray(offset + 8, offset + size) }
    offset += size
  }
}

/** The first video sample entry under moov with its avcC or hvcC box. */
function findVideoEntry(moov: Buffer): { type: string; config: Box } | undefined {
  for (const box of boxes(moov)) {
    if (VIDEO_ENTRIES.has(box.type)) {
      const config = [...boxes(box.body.subarray(VISUAL_SAMPLE_ENTRY_BYTES))].find(b => b.type === 'avcC' || b.type === 'hvcC')
      if (config !== undefined) return { type: box.type, config }
    }
    const skip = CONTAINERS[box.type]
    const found = skip === undefined ? undefined : findVideoEntry(box.body.subarray(skip))
    if (found !== undefined) return found
  }
  return undefined
}

/** The moov box of an MP4, wherever it is among the top-level boxes, wrapped as the one box of a buffer. */
async function readMoov(file: string): Promise<Buffer> {
  const handle = await open(file, 'r')
  try {
    const { size } = await handle.stat()
    const header = Buffer.alloc(16)
    for (let offset = 0; offset + 8 <= size;) {
      await handle.read(header, 0, 16, offset)
      let boxSize = header.readUInt32BE(0)
      if (boxSize === 1) boxSize = Number(header.readBigUInt64BE(8))
      if (boxSize < 8) break
      if (header.toString('latin1', 4, 8) === 'moov') {
        if (boxSize > MAX_MOOV_BYTES) break
        const moov = Buffer.alloc(boxSize)
        await handle.read(moov, 0, boxSize, offset)
        return moov
      }
      offset += boxSize
    }
  } finally {
    await handle.close()
  }
  throw new MediaError(`${file} is not an MP4 with an index (moov) of at most ${MAX_MOOV_BYTES} bytes`)
}
