// Benchmark 1: throughput of the box's decrypted stream (GET /api/films/:id/stream with Range, a real
// `seed-one start` process) against @fastify/static serving the same plaintext, one client reading
// the whole film and 16 clients each reading a sixteenth of it at once.
//
//   npx node bench/stream.ts [--size-mib 1024] [--rounds 5]
//
// Setting: bench/stream-world.ts. After one untimed warm-up read of each kind, `rounds` rounds that
// alternate which kind goes first; figures are medians over the rounds (a shared box swings).
import { median, report } from './report.ts'
import { KINDS, MiB, parseBenchArgs, runChecked, slices, startStreamWorld, type Kind, type StreamWorld } from './stream-world.ts'

const CLIENTS = [1, 16]

const args = parseBenchArgs({ rounds: '5' })
const rounds = Number(args.rounds)
if (!Number.isInteger(rounds) || rounds < 1) throw new RangeError(`--rounds must be a positive integer, got ${args.rounds}`)

/** MiB/s of all `clients` together, reading the whole film once between them. */
async function throughput(world: StreamWorld, kind: Kind, clients: number): Promise<number> {
  const result = await runChecked(world, { requests: slices(world, kind, clients), concurrency: clients })
  return result.bytes / MiB / (result.ms / 1000)
}

const world = await startStreamWorld({ sizeMiB: args.sizeMiB })
try {
  const rows: Record<string, Record<string, number>> = {}
  const perRound: string[] = []
  let met = true
  for (const clients of CLIENTS) {
    for (const kind of KINDS) await throughput(world, kind, clients) // warm-up: JIT, page cache, socket buffers
    const rates: Record<Kind, number[]> = { static: [], decrypted: [] }
    for (let round = 0; round < rounds; round++) {
      for (const kind of round % 2 === 0 ? KINDS : KINDS.toReversed()) rates[kind].push(await throughput(world, kind, clients))
    }
    const ratio = median(rates.decrypted.map((d, round) => d / (rates.static[round] as number)))
    met &&= ratio >= 0.9
    rows[clients === 1 ? 'one client' : `${clients} clients`] = {
      'static MiB/s': +median(rates.static).toFixed(0),
      'decrypted MiB/s': +median(rates.decrypted).toFixed(0),
      'decrypted/static': +ratio.toFixed(2)
    }
    perRound.push(
      `${clients} client(s) per round, static ${rates.static.map(r => r.toFixed(0)).join(' ')}, decrypted ${rates.decrypted.map(r => r.toFixed(0)).join(' ')} MiB/s`
    )
  }
  await report({
    id: 'stream-throughput',
    title: 'Decrypted Range streaming vs @fastify/static (throughput)',
    command: `npx node bench/stream.ts --size-mib ${args.sizeMiB} --rounds ${rounds}`,
    goal: 'decrypted/static ≥ 0.9, one client and 16 clients',
    met,
    rows,
    notes: [
      `a ${args.sizeMiB} MiB film (AES-256-GCM, 64 KiB chunks, 1 MiB leaves) from a seed-one start process (GET /api/films/:id/stream), against @fastify/static in its own process; the clients in a third process`,
      'each run reads the whole film once: one client in one Range request, 16 clients each one sixteenth at once; median ratio of the rounds',
      ...perRound,
      ...world.notes
    ]
  })
} finally {
  await world.close()
}
