// Throughput of sealing and opening, both ciphers: `npx node bench/sealing.ts [MiB]` prints one table
// (section `sealing` of docs/benchmarks.md).
import { randomBytes, type KeyObject } from 'node:crypto'
import { PassThrough, Readable, Writable, type Transform } from 'node:stream'
import { pipeline } from 'node:stream/promises'
import { HEADER_LENGTH, chunkKey, decodeHeader, type CipherName } from '../server/sealing/format.ts'
import { createSealer, generateContentKey, sealBuffer } from '../server/sealing/seal.ts'
import { createChunkOpener, openBuffer } from '../server/sealing/open.ts'
import { report } from './report.ts'

const mebibytes = Number(process.argv[2] ?? 64)
const size = mebibytes * 1024 * 1024
const PIECE = 256 * 1024 // about what a blockstore hands out per read
const plaintext = randomBytes(size)
const key = generateContentKey()

function pieces(data: Uint8Array): Buffer[] {
  const list: Buffer[] = []
  for (let offset = 0; offset < data.length; offset += PIECE)
    list.push(Buffer.from(data.buffer, data.byteOffset + offset, Math.min(PIECE, data.length - offset)))
  return list
}

async function drain(input: Uint8Array, transform: Transform): Promise<void> {
  await pipeline(Readable.from(pieces(input)), transform, new Writable({ write: (_piece, _encoding, done) => done() }))
}

/** What the film stream does per request: a chunk opener fed the sealed pieces (the key is derived once per film). */
function openInPieces(sealed: Uint8Array, key: KeyObject): void {
  const header = decodeHeader(sealed)
  const opener = createChunkOpener(key, header, { start: 0, end: header.plaintextLength - 1 })
  for (const piece of pieces(sealed.subarray(HEADER_LENGTH))) opener.write(piece, () => {})
  opener.end()
}

/** Best of three runs, in MB/s of plaintext (10^6 bytes). */
async function measure(work: () => unknown): Promise<string> {
  let best = Infinity
  for (let run = 0; run < 3; run++) {
    const started = process.hrtime.bigint()
    await work()
    best = Math.min(best, Number(process.hrtime.bigint() - started) / 1e9)
  }
  return (size / 1e6 / best).toFixed(0)
}

const rows: Record<string, Record<string, string>> = {}
rows['stream pass-through (baseline)'] = {
  'aes-256-gcm': await measure(() => drain(plaintext, new PassThrough())),
  'chacha20-poly1305': '-'
}
for (const cipher of ['aes-256-gcm', 'chacha20-poly1305'] as CipherName[]) {
  const sealed = sealBuffer(key, plaintext, { cipher })
  const chunks = chunkKey(key, decodeHeader(sealed))
  const record = (name: string, value: string) => {
    ;(rows[name] ??= {})[cipher] = value
  }
  record('sealBuffer', await measure(() => sealBuffer(key, plaintext, { cipher })))
  record('openBuffer', await measure(() => openBuffer(key, sealed)))
  record('createSealer stream', await measure(() => drain(plaintext, createSealer(key, { plaintextLength: size, cipher }))))
  record('createChunkOpener', await measure(() => openInPieces(sealed, chunks)))
}
await report({
  id: 'sealing',
  title: 'Sealing format alone (MB/s of plaintext, best of 3)',
  command: `npx node bench/sealing.ts ${mebibytes}`,
  goal: 'context for the streaming and publish figures (no goal set)',
  met: null,
  rows,
  notes: [`${mebibytes} MiB, 64 KiB chunks, ${PIECE / 1024} KiB input pieces, ${process.arch}`]
})
