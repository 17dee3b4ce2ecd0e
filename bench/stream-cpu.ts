// Benchmark 3: CPU cost per stream. 16 TVs each reading at 40 Mb/s (a 4K remux) from the box's
// decrypted stream, and from @fastify/static serving the same plaintext: server CPU seconds (user +
// system, all threads, from /proc/<pid>/stat) per GB served. Then the same with the server pinned to
// CPU 0 and the client to CPU 1 (taskset), the way a busy 2-core box would share out its cores.
//
//   npx node bench/stream-cpu.ts [--size-mib 1024] [--seconds 12]
//
// Setting: bench/stream-world.ts. The 16 streams start at evenly spread positions of the film and run
// for --seconds (at 1 GiB, 12 s keeps every stream inside the film). The servers' idle CPU (the box
// follows the chain and keeps libp2p up) is measured first and is included in the figures, as it is
// in the box's life.
import os from 'node:os'
import { cpuSeconds, pinToCpu, unpin } from './proc-stats.ts'
import { report, type Row } from './report.ts'
import { KINDS, pacedStreams, parseBenchArgs, startStreamWorld, TV_BYTES_PER_SECOND, type Kind, type StreamWorld } from './stream-world.ts'

const CLIENTS = 16
const IDLE_SECONDS = 5

const args = parseBenchArgs({ seconds: '12' })
const seconds = Number(args.seconds)
if (!(seconds >= 2 && seconds <= 120)) throw new RangeError(`--seconds must be between 2 and 120, got ${args.seconds}`)
if (os.cpus().length < 2) throw new RangeError('this benchmark pins the server and the client to different CPUs: it needs 2')

async function measure(world: StreamWorld, kind: Kind): Promise<{ cpuPerGB: number; servedMBps: number; cpuShare: number }> {
  const pid = world.pids[kind]
  const before = cpuSeconds(pid)
  const result = await pacedStreams(world, kind, CLIENTS, seconds)
  const used = cpuSeconds(pid) - before
  return { cpuPerGB: used / (result.bytes / 1e9), servedMBps: result.bytes / 1e6 / (result.ms / 1000), cpuShare: used / (result.ms / 1000) }
}

const world = await startStreamWorld({ sizeMiB: args.sizeMiB })
try {
  const idle: Record<Kind, number> = { static: 0, decrypted: 0 }
  const idleBefore = KINDS.map(kind => cpuSeconds(world.pids[kind]))
  await new Promise(resolve => setTimeout(resolve, IDLE_SECONDS * 1000))
  KINDS.forEach((kind, i) => (idle[kind] = (cpuSeconds(world.pids[kind]) - (idleBefore[i] as number)) / IDLE_SECONDS))

  const rows: Record<string, Row> = {}
  for (const pinned of [false, true]) {
    if (pinned) {
      for (const kind of KINDS) pinToCpu(world.pids[kind], 0)
      pinToCpu(world.client.pid, 1)
    }
    const figures = {} as Record<Kind, Awaited<ReturnType<typeof measure>>>
    for (const kind of KINDS) figures[kind] = await measure(world, kind)
    const where = pinned ? 'server on one core' : 'any core'
    for (const kind of KINDS) {
      const f = figures[kind]
      rows[`${kind}, ${where}`] = {
        'CPU s/GB': +f.cpuPerGB.toFixed(2),
        'served MB/s': +f.servedMBps.toFixed(1),
        'server CPU %': +(f.cpuShare * 100).toFixed(0),
        'idle CPU %': +(idle[kind] * 100).toFixed(1)
      }
    }
    rows[`decrypted/static, ${where}`] = { 'CPU s/GB': +(figures.decrypted.cpuPerGB / figures.static.cpuPerGB).toFixed(2) }
  }
  for (const pid of [...KINDS.map(kind => world.pids[kind]), world.client.pid]) unpin(pid)
  await report({
    id: 'stream-cpu',
    title: 'CPU cost per stream: 16 × 40 Mb/s, decrypted vs @fastify/static',
    command: `npx node bench/stream-cpu.ts --size-mib ${args.sizeMiB} --seconds ${seconds}`,
    goal: 'CPU seconds per GB served, decrypted beside static (the issue sets no bound)',
    met: null,
    rows,
    notes: [
      `${CLIENTS} streams each paced at ${(TV_BYTES_PER_SECOND * 8) / 1e6} Mb/s (${(CLIENTS * TV_BYTES_PER_SECOND) / 1e6} MB/s in all) for ${seconds} s; server CPU = user + system of its process (/proc/<pid>/stat), idle CPU included; GB = 10^9 bytes`,
      'server on one core: taskset binds the server to CPU 0 and the client process to CPU 1',
      ...world.notes
    ]
  })
} finally {
  await world.close()
}
