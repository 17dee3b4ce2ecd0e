// Benchmark 4: resident memory (VmRSS, /proc/<pid>/status) of a real `seed-one start` process: idle
// with Helia and libp2p up, just started and then paired with a film ready, and while it serves 16
// streams at 40 Mb/s each. @fastify/static serving the same plaintext is measured beside it.
//
//   npx node bench/memory.ts [--size-mib 1024] [--seconds 12]
//
// Setting: bench/stream-world.ts. "Idle" is read after IDLE_SECONDS without requests; under load,
// the figure is the highest of samples taken every SAMPLE_MS.
import { memoryBytes } from './proc-stats.ts'
import { report, type Row } from './report.ts'
import { KINDS, pacedStreams, parseBenchArgs, startStreamWorld, type Kind, type StreamWorld } from './stream-world.ts'

const CLIENTS = 16
const IDLE_SECONDS = 10
const SAMPLE_MS = 200
const GOAL_BYTES = 100e6

const args = parseBenchArgs({ seconds: '12' })
const seconds = Number(args.seconds)
if (!(seconds >= 2 && seconds <= 120)) throw new RangeError(`--seconds must be between 2 and 120, got ${args.seconds}`)

const MB = (bytes: number): number => +(bytes / 1e6).toFixed(1)

async function idleRss(pid: number): Promise<number> {
  await new Promise(resolve => setTimeout(resolve, IDLE_SECONDS * 1000))
  return memoryBytes(pid, 'VmRSS')
}

/** The highest VmRSS of the process serving `kind` while 16 TVs play from it. */
async function servingRss(world: StreamWorld, kind: Kind): Promise<number> {
  const pid = world.pids[kind]
  let peak = memoryBytes(pid, 'VmRSS')
  const sampler = setInterval(() => (peak = Math.max(peak, memoryBytes(pid, 'VmRSS'))), SAMPLE_MS)
  try {
    await pacedStreams(world, kind, CLIENTS, seconds)
  } finally {
    clearInterval(sampler)
  }
  return peak
}

let freshBox = 0
const world = await startStreamWorld({
  sizeMiB: args.sizeMiB,
  boxStarted: async pid => {
    freshBox = await idleRss(pid)
  }
})
try {
  const idle = { static: await idleRss(world.pids.static), decrypted: await idleRss(world.pids.decrypted) }
  const ownIdle = { static: memoryBytes(world.pids.static, 'RssAnon'), decrypted: memoryBytes(world.pids.decrypted, 'RssAnon') }
  const serving = {} as Record<Kind, number>
  for (const kind of KINDS) serving[kind] = await servingRss(world, kind)
  const after = await idleRss(world.pids.decrypted)
  const rows: Record<string, Row> = {
    'box (seed-one start)': {
      'idle, just started MB': MB(freshBox),
      'idle, paired, film ready MB': MB(idle.decrypted),
      'of it anonymous (RssAnon) MB': MB(ownIdle.decrypted),
      [`serving ${CLIENTS} streams MB`]: MB(serving.decrypted),
      'idle again MB': MB(after),
      'peak (VmHWM) MB': MB(memoryBytes(world.pids.decrypted, 'VmHWM'))
    },
    '@fastify/static': {
      'idle, paired, film ready MB': MB(idle.static),
      'of it anonymous (RssAnon) MB': MB(ownIdle.static),
      [`serving ${CLIENTS} streams MB`]: MB(serving.static),
      'peak (VmHWM) MB': MB(memoryBytes(world.pids.static, 'VmHWM'))
    }
  }
  await report({
    id: 'memory',
    title: 'Memory: resident set of the box process',
    command: `npx node bench/memory.ts --size-mib ${args.sizeMiB} --seconds ${seconds}`,
    goal: 'idle ≤ 100 MB (just started, and paired with a film ready)',
    met: freshBox <= GOAL_BYTES && idle.decrypted <= GOAL_BYTES,
    rows,
    notes: [
      `VmRSS from /proc/<pid>/status, MB = 10^6 bytes; RssAnon leaves out mapped files (the node binary alone maps ~64 MB, shared with every Node process); idle = after ${IDLE_SECONDS} s without requests; serving = the highest sample (every ${SAMPLE_MS} ms) while ${CLIENTS} streams play at 40 Mb/s each for ${seconds} s`,
      'the box: `seed-one start --role player` with Helia, libp2p (TCP, noise, yamux, identify, ping, Kademlia DHT) and the chain watcher up, connected to a custodian',
      ...world.notes
    ]
  })
} finally {
  await world.close()
}
