// Every figure is read without blocking the event loop: systeminformation's Linux paths for the CPU load,
// temperature, disks and network run shells through execSync, which stalls every stream while they run.
// Memory comes from os.totalmem()/os.freemem() (libuv reads MemTotal and MemAvailable of /proc/meminfo),
// the figures its mem() gave, without loading its 700 KB of modules into every box (docs/benchmarks.md).
import { statfs } from 'node:fs/promises'
import os from 'node:os'
import { readCpuLoad } from './cpu-load.ts'
import { readCpuTemperatureC } from './cpu-temperature.ts'
import { readNetworkCounters } from './network-counters.ts'
import { readPiThrottled } from './pi-throttled.ts'
import type { SystemStats } from '../wire/monitor-protocol.ts'

export async function readSystemStats(dataDir: string): Promise<SystemStats> {
  const [load, temperatureC, throttled, disk, network] = await Promise.all([
    readCpuLoad(),
    readCpuTemperatureC(),
    readPiThrottled(),
    statfs(dataDir),
    readNetworkCounters()
  ])
  const memory = { total: os.totalmem(), available: os.freemem() }
  return {
    at: new Date().toISOString(),
    cpu: { loadPercent: load.loadPercent, load1: os.loadavg()[0], cores: load.cores, temperatureC, throttled },
    memory: { totalBytes: memory.total, usedBytes: memory.total - memory.available, availableBytes: memory.available },
    // As df counts them: used is what no one may write any more, free what an unprivileged writer still may.
    disk: {
      totalBytes: disk.blocks * disk.bsize,
      usedBytes: (disk.blocks - disk.bfree) * disk.bsize,
      freeBytes: disk.bavail * disk.bsize
    },
    network
  }
}
