// How busy the CPU is, from /proc/stat read asynchronously (systeminformation's currentLoad runs
// `cat /proc/stat` through execSync, which stalls every stream while the shell starts).
import { readFile } from 'node:fs/promises'
import { performance } from 'node:perf_hooks'

/** Ticks since boot over all CPUs, and how many CPUs are online. */
interface CpuTimes {
  busy: number
  total: number
  cores: number
}

/** /proc/stat: the `cpu` line sums the `cpuN` lines (one per online CPU): user nice system idle iowait irq softirq steal guest guest_nice. */
export function parseCpuTimes(stat: string): CpuTimes {
  const lines = stat.split('\n')
  const aggregate = lines.find(line => line.startsWith('cpu '))
  if (aggregate === undefined) throw new Error('/proc/stat has no aggregate cpu line')
  const [user, nice, system, idle, iowait, irq, softirq, steal] = aggregate.trim().split(/\s+/).slice(1, 9).map(Number)
  // guest and guest_nice are already counted in user and nice; time waiting for I/O is idle time.
  const total = user + nice + system + idle + iowait + irq + softirq + steal
  return { busy: total - idle - iowait, total, cores: lines.filter(line => /^cpu\d+ /.test(line)).length }
}

// Readings closer together than this reuse the last figure: a few ticks make no meaningful share.
const MIN_WINDOW_MS = 200

let base = { times: { busy: 0, total: 0, cores: 0 }, atMs: -Infinity }
let lastPercent = 0

/** The share of CPU time spent busy since the previous reading (since boot at the first), in percent to 0.1, and the online CPUs. */
export async function readCpuLoad(): Promise<{ loadPercent: number; cores: number }> {
  const times = parseCpuTimes(await readFile('/proc/stat', 'utf8'))
  const now = performance.now()
  if (now - base.atMs >= MIN_WINDOW_MS && times.total > base.times.total) {
    lastPercent = Math.round(((times.busy - base.times.busy) / (times.total - base.times.total)) * 1000) / 10
    base = { times, atMs: now }
  }
  return { loadPercent: lastPercent, cores: times.cores }
}
