// Throughput of sealing and opening, both ciphers, with the CPU's AES instructions and without them
// (the run repeats itself in a child process with OPENSSL_ia32cap masking AES-NI and PCLMULQDQ, as on
// a Raspberry Pi before the Pi 5): `npx node bench/sealing.ts [MiB]` prints one table (section
// `sealing` of docs/benchmarks.md).
import { execFileSync } from 'node:child_process'
import { randomBytes, type KeyObject } from 'node:crypto'
import { fileURLToPath } from 'node:url'
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

type Rows = Record<string, Record<string, string>>

/** One table column per cipher, suffixed `suffix`. */
async function measureCiphers(suffix: string): Promise<Rows> {
  const rows: Rows = {}
  rows['stream pass-through (baseline)'] = { [`aes-256-gcm${suffix}`]: await measure(() => drain(plaintext, new PassThrough())) }
  for (const cipher of ['aes-256-gcm', 'chacha20-poly1305'] as CipherName[]) {
    const sealed = sealBuffer(key, plaintext, { cipher })
    const chunks = chunkKey(key, decodeHeader(sealed))
    const record = (name: string, value: string) => {
      ;(rows[name] ??= {})[cipher + suffix] = value
    }
    record('sealBuffer', await measure(() => sealBuffer(key, plaintext, { cipher })))
    record('openBuffer', await measure(() => openBuffer(key, sealed)))
    record('createSealer stream', await measure(() => drain(plaintext, createSealer(key, { plaintextLength: size, cipher }))))
    record('createChunkOpener', await measure(() => openInPieces(sealed, chunks)))
  }
  return rows
}

// OpenSSL reads the mask once at start-up, so the masked half runs in a process of its own.
// Bits 57 and 33 of the first word: AES-NI and PCLMULQDQ (CPUID.1:ECX bits 25 and 1). With no
// `:word` part OpenSSL also clears the extended words (AVX2, AVX-512), so ChaCha20 takes its
// 128-bit SSSE3 path: closer to the boards' 128-bit NEON than the AVX-512 one.
const NO_AES_MASK = '~0x200000200000000'
const MASKED = ' (no AES-NI)'
if (process.env.SEALING_BENCH_CHILD === '1') {
  process.stdout.write(JSON.stringify(await measureCiphers(MASKED)))
  process.exit(0)
}
const rows = await measureCiphers('')
const masked = JSON.parse(
  execFileSync(process.execPath, [fileURLToPath(import.meta.url), String(mebibytes)], {
    env: { ...process.env, OPENSSL_ia32cap: NO_AES_MASK, SEALING_BENCH_CHILD: '1' },
    maxBuffer: 1024 * 1024
  }).toString()
) as Rows
for (const [name, row] of Object.entries(masked)) Object.assign((rows[name] ??= {}), row)

/** chacha20-poly1305 ÷ aes-256-gcm for opening, what a box does on playback. */
const openRatio = (suffix: string) =>
  (Number(rows.createChunkOpener[`chacha20-poly1305${suffix}`]) / Number(rows.createChunkOpener[`aes-256-gcm${suffix}`])).toFixed(2)
const maskSlowdown = Number(rows.createChunkOpener['aes-256-gcm']) / Number(rows.createChunkOpener[`aes-256-gcm${MASKED}`])
await report({
  id: 'sealing',
  title: 'Sealing format alone (MB/s of plaintext, best of 3)',
  command: `npx node bench/sealing.ts ${mebibytes}`,
  goal: 'context for the streaming and publish figures (no goal set)',
  met: null,
  rows,
  notes: [
    `${mebibytes} MiB, 64 KiB chunks, ${PIECE / 1024} KiB input pieces, ${process.arch}, Node's OpenSSL ${process.versions.openssl}`,
    `${MASKED.trim()}: the same run in a child process with OPENSSL_ia32cap="${NO_AES_MASK}" (AES-NI and PCLMULQDQ masked, and AVX2/AVX-512 with them); ` +
      `it took effect: AES-256-GCM opens ${maskSlowdown.toFixed(1)}× slower under it` +
      (maskSlowdown < 2 ? ' (**under 2×: the mask may not have taken effect**)' : ''),
    `createChunkOpener (playback), chacha20-poly1305 ÷ aes-256-gcm: ${openRatio('')} with AES-NI, ${openRatio(MASKED)} without`
  ]
})
