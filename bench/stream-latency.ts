// Benchmark 2: latency of random 1 MiB Range requests (what a seek costs), the box's decrypted stream
// against @fastify/static serving the same plaintext; one request at a time over keep-alive connections.
//
//   npx node bench/stream-latency.ts [--size-mib 1024] [--requests 5000]
//
// Setting: bench/stream-world.ts. Each random offset (anywhere, not aligned to chunks or blocks) is
// asked of both servers, alternating which goes first; latency is request sent → last byte.
import { median, quantile, report } from './report.ts'
import type { Fetched, RangeGet } from './stream-client.ts'
import { KINDS, MiB, parseBenchArgs, runChecked, startStreamWorld, type Kind } from './stream-world.ts'

const WARM_UP = 20

const args = parseBenchArgs({ requests: '5000' })
const count = Number(args.requests)
if (!Number.isInteger(count) || count < 10) throw new RangeError(`--requests must be a whole number ≥ 10, got ${args.requests}`)

const world = await startStreamWorld({ sizeMiB: args.sizeMiB })
try {
  const requests: Array<RangeGet & { kind: Kind }> = []
  for (let i = 0; i < WARM_UP + count; i++) {
    const start = Math.floor(Math.random() * (world.size - MiB + 1))
    for (const kind of i % 2 === 0 ? KINDS : KINDS.toReversed())
      requests.push({ kind, url: world.urls[kind], headers: world.headers[kind], start, end: start + MiB - 1 })
  }
  const { fetched } = await runChecked(world, { requests, concurrency: 1 })
  const timed = (kind: Kind): Fetched[] => fetched.filter((_, i) => requests[i]?.kind === kind).slice(WARM_UP)
  const figures = (kind: Kind) => {
    const ms = timed(kind).map(f => f.ms)
    return { p50: median(ms), p99: quantile(ms, 0.99), firstByte: median(timed(kind).map(f => f.firstByteMs)) }
  }
  const [plain, decrypted] = [figures('static'), figures('decrypted')]
  const row = (f: typeof plain) => ({
    'p50 ms': +f.p50.toFixed(2),
    'p99 ms': +f.p99.toFixed(2),
    'first byte p50 ms': +f.firstByte.toFixed(2)
  })
  const p99Ratio = decrypted.p99 / plain.p99
  await report({
    id: 'stream-latency',
    title: 'Random 1 MiB Range requests: latency, decrypted vs @fastify/static',
    command: `npx node bench/stream-latency.ts --size-mib ${args.sizeMiB} --requests ${count}`,
    goal: 'decrypted p99 ≤ 1.5 × static p99',
    met: p99Ratio <= 1.5,
    rows: {
      static: row(plain),
      decrypted: row(decrypted),
      'decrypted/static': {
        'p50 ms': +(decrypted.p50 / plain.p50).toFixed(2),
        'p99 ms': +p99Ratio.toFixed(2),
        'first byte p50 ms': +(decrypted.firstByte / plain.firstByte).toFixed(2)
      }
    },
    notes: [
      `${count} random 1 MiB ranges of a ${args.sizeMiB} MiB film (after ${WARM_UP} untimed), each asked of both servers, one request at a time; request sent → last byte`,
      'the film is in the page cache (both the plaintext and the box blockstore were just written): this measures the servers, not the disk',
      ...world.notes
    ]
  })
} finally {
  await world.close()
}
