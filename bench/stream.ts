// Benchmark 1: throughput of the box's decrypted stream (GET /api/films/:id/stream with Range, the
// production build as its systemd unit starts it) against @fastify/static serving the same plaintext,
// one client reading the whole film and 16 clients each reading a sixteenth of it at once, with the
// CPU time each server, and the clients, spent per GB sent.
//
// With 16 clients this 2-core machine is bound by CPU (server + client + whatever else runs), so a
// server's throughput goes as 1 / (its CPU per GB + the client's), and the box, which reads and writes
// what static does and deciphers besides, would reach about (client + static) / (client + static +
// cipher) spending static's CPU plus the cipher alone. The notes print that beside the goal.
//
//   npx node bench/stream.ts [--size-mib 1024] [--rounds 5] [--cipher chacha20-poly1305] [--baseline <checkout>]
//
// Setting: bench/stream-world.ts. After one untimed warm-up read of each kind, `rounds` rounds that
// alternate which kind goes first; figures are medians over the rounds (a shared box swings).
// --baseline: a checkout (e.g. a worktree of main) whose box is measured first, in the same run.
// --cipher: the film's (default: what publish seals new films with, server/sealing/format.ts).
import { createCipheriv, createDecipheriv, randomBytes, type CipherGCM, type DecipherGCM } from 'node:crypto'
import { cpuSeconds } from './proc-stats.ts'
import { median, report } from './report.ts'
import { AEAD_OPTIONS, CIPHER_NAMES, DEFAULT_CIPHER, NONCE_LENGTH, type CipherName } from '../server/sealing/format.ts'
import { KINDS, MiB, parseBenchArgs, runChecked, slices, startStreamWorld, type Kind, type StreamWorld } from './stream-world.ts'

const CLIENTS = [1, 16]
const GOAL_RATIO = { 1: 1, 16: 0.9 } as Record<number, number>

const args = parseBenchArgs({ rounds: '5', cipher: DEFAULT_CIPHER })
const rounds = Number(args.rounds)
if (!Number.isInteger(rounds) || rounds < 1) throw new RangeError(`--rounds must be a positive integer, got ${args.rounds}`)
const cipher = args.cipher as CipherName
if (!CIPHER_NAMES.includes(cipher)) throw new RangeError(`--cipher must be one of ${CIPHER_NAMES.join(', ')}, got ${args.cipher}`)

/** MiB/s of all `clients` together, reading the whole film once between them, and the server's and the clients' CPU seconds per GB (10^9 bytes) sent. */
async function throughput(
  world: StreamWorld,
  kind: Kind,
  clients: number
): Promise<{ rate: number; cpuPerGB: number; clientCpuPerGB: number }> {
  const pids = [world.pids[kind], world.client.pid]
  const before = pids.map(cpuSeconds)
  const result = await runChecked(world, { requests: slices(world, kind, clients), concurrency: clients })
  const [server, client] = pids.map((pid, i) => (cpuSeconds(pid) - (before[i] as number)) / (result.bytes / 1e9)) as [number, number]
  return { rate: result.bytes / MiB / (result.ms / 1000), cpuPerGB: server, clientCpuPerGB: client }
}

/**
 * CPU seconds per GB the cipher alone takes to open: one AEAD context over 64 MiB fed 64 KiB at a time,
 * each output freed at once (best of 5). That is Node's OpenSSL without a chunk's set-up (a Decipheriv,
 * its AAD and tag, per 64 KiB); in one call instead, the 64 MiB output's page faults cost more than the cipher.
 */
function cipherAloneCpuPerGB(name: CipherName): number {
  const key = randomBytes(32)
  const nonce = randomBytes(NONCE_LENGTH)
  const sealer = createCipheriv(name, key, nonce, AEAD_OPTIONS) as CipherGCM
  const ciphertext = Buffer.concat([sealer.update(randomBytes(64 * MiB)), sealer.final()])
  const tag = sealer.getAuthTag()
  let best = Infinity
  for (let run = 0; run < 5; run++) {
    const before = process.cpuUsage()
    const opener = createDecipheriv(name, key, nonce, AEAD_OPTIONS) as DecipherGCM
    for (let at = 0; at < ciphertext.length; at += 64 * 1024)
      (opener.update(ciphertext.subarray(at, at + 64 * 1024)).buffer as ArrayBuffer).transfer(0)
    opener.setAuthTag(tag)
    opener.final()
    const used = process.cpuUsage(before)
    best = Math.min(best, (used.user + used.system) / 1e6 / (ciphertext.length / 1e9))
  }
  return best
}

const cipherAlone = cipherAloneCpuPerGB(cipher)
const rows: Record<string, Record<string, number | string>> = {}
const notes: string[] = []
let met = false
for (const tree of args.trees) {
  const world = await startStreamWorld({ sizeMiB: args.sizeMiB, tree: tree.dir, cipher })
  try {
    met = true
    for (const clients of CLIENTS) {
      for (const kind of KINDS) await throughput(world, kind, clients) // warm-up: JIT, page cache, socket buffers
      const rates: Record<Kind, number[]> = { static: [], decrypted: [] }
      const cpu: Record<Kind, number[]> = { static: [], decrypted: [] }
      const clientCpu: Record<Kind, number[]> = { static: [], decrypted: [] }
      for (let round = 0; round < rounds; round++) {
        for (const kind of round % 2 === 0 ? KINDS : KINDS.toReversed()) {
          const run = await throughput(world, kind, clients)
          rates[kind].push(run.rate)
          cpu[kind].push(run.cpuPerGB)
          clientCpu[kind].push(run.clientCpuPerGB)
        }
      }
      const ratio = median(rates.decrypted.map((d, round) => d / (rates.static[round] as number)))
      met &&= ratio >= (GOAL_RATIO[clients] as number)
      rows[`${tree.label}${clients === 1 ? 'one client' : `${clients} clients`}`] = {
        'static MiB/s': +median(rates.static).toFixed(0),
        'decrypted MiB/s': +median(rates.decrypted).toFixed(0),
        'decrypted/static': +ratio.toFixed(2),
        goal: `≥ ${GOAL_RATIO[clients]}`,
        'static CPU s/GB': +median(cpu.static).toFixed(2),
        'decrypted CPU s/GB': +median(cpu.decrypted).toFixed(2),
        'client CPU s/GB (static, decrypted)': `${median(clientCpu.static).toFixed(2)}, ${median(clientCpu.decrypted).toFixed(2)}`
      }
      if (clients > 1) {
        const staticTotal = median(clientCpu.static) + median(cpu.static)
        notes.push(
          `${tree.label}${clients} clients, at static's CPU plus the cipher alone the box would reach (client ${median(clientCpu.static).toFixed(2)} + static ${median(cpu.static).toFixed(2)}) / ` +
            `(the same + the cipher alone ${cipherAlone.toFixed(2)}) = ${(staticTotal / (staticTotal + cipherAlone)).toFixed(2)} of static; ` +
            `the box spent ${(median(cpu.decrypted) - median(cpu.static) - cipherAlone).toFixed(2)} CPU s/GB beyond static's + the cipher's`
        )
      }
      notes.push(
        `${tree.label}${clients} client(s) per round, static ${rates.static.map(r => r.toFixed(0)).join(' ')}, decrypted ${rates.decrypted.map(r => r.toFixed(0)).join(' ')} MiB/s`
      )
    }
    notes.push(...world.notes.map(note => `${tree.label}${note}`))
  } finally {
    await world.close()
  }
}
await report({
  id: 'stream-throughput',
  title: 'Decrypted Range streaming vs @fastify/static (throughput)',
  command: `npx node bench/stream.ts --size-mib ${args.sizeMiB} --rounds ${rounds} --cipher ${cipher}${args.baseline === '' ? '' : ` --baseline ${args.baseline}`}`,
  goal: 'decrypted/static ≥ 1.0 with one client, ≥ 0.9 with 16 (issue 14; judged on the last box measured)',
  met,
  rows,
  notes: [
    `a ${args.sizeMiB} MiB film (${cipher}, 64 KiB chunks, 1 MiB leaves) from a seed-one start process (GET /api/films/:id/stream), against @fastify/static in its own process; the clients in a third process`,
    'each run reads the whole film once: one client in one Range request, 16 clients each one sixteenth at once; median ratio of the rounds',
    'CPU s/GB: user + system time of the serving process (/proc/<pid>/stat) over the run, per 10^9 bytes sent; median of the rounds',
    `the cipher alone: ${cipherAlone.toFixed(2)} CPU s/GB to open ${cipher}: one context over 64 MiB, 64 KiB a call (best of 5), Node's OpenSSL ${process.versions.openssl}`,
    ...notes
  ]
})
