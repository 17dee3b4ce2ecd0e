// The apps' launcher icons, drawn here rather than kept as binary files: Seed One's mark (a white ring
// round a white seed on the UI's near-black) as an RGBA PNG of any size the platforms ask for.
import { crc32, deflateSync } from 'node:zlib'

const BACKGROUND = [0x0b, 0x0b, 0x0c]
const MARK = [0xf4, 0xf4, 0xf5]

function chunk(type: string, data: Buffer): Buffer {
  const length = Buffer.alloc(4)
  length.writeUInt32BE(data.length)
  const typeAndData = Buffer.concat([Buffer.from(type, 'ascii'), data])
  const crc = Buffer.alloc(4)
  crc.writeUInt32BE(crc32(typeAndData))
  return Buffer.concat([length, typeAndData, crc])
}

/** How much of the mark covers the pixel whose centre is `distance` from the icon's centre (0..1, antialiased). */
function markCoverage(distance: number, size: number): number {
  const ring = { inner: size * 0.3, outer: size * 0.38 }
  const seed = size * 0.14
  const inside = (edge: number, d: number) => Math.max(0, Math.min(1, edge - d + 0.5))
  return Math.max(inside(seed, distance), Math.min(inside(ring.outer, distance), 1 - inside(ring.inner, distance)))
}

export function iconPng(width: number, height: number): Buffer {
  const size = Math.min(width, height)
  const rows: Buffer[] = []
  for (let y = 0; y < height; y++) {
    const row = Buffer.alloc(1 + width * 4) // filter byte 0 (none), then RGBA pixels
    for (let x = 0; x < width; x++) {
      const cover = markCoverage(Math.hypot(x + 0.5 - width / 2, y + 0.5 - height / 2), size)
      for (let c = 0; c < 3; c++) row[1 + x * 4 + c] = Math.round(BACKGROUND[c] + (MARK[c] - BACKGROUND[c]) * cover)
      row[1 + x * 4 + 3] = 0xff
    }
    rows.push(row)
  }
  const header = Buffer.alloc(13)
  header.writeUInt32BE(width, 0)
  header.writeUInt32BE(height, 4)
  header.set([8, 6, 0, 0, 0], 8) // 8 bits a channel, RGBA, deflate, no filter method, no interlace
  return Buffer.concat([
    Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]),
    chunk('IHDR', header),
    chunk('IDAT', deflateSync(Buffer.concat(rows), { level: 9 })),
    chunk('IEND', Buffer.alloc(0))
  ])
}
