// Every figure is read without blocking the event loop: systeminformation's Linux paths for the CPU load,
// temperature, disks and network run shells through execSync, which stalls every stream while they run.
// Its mem() reads /proc/meminfo asynchronously, so it stays.
import si from 'systeminformation'
import { statfs } from 'node:fs/promises'
import os from 'node:os'
import { readCpuLoad } from './cpu-load.ts'
import { readCpuTemperatureC } from './cpu-temperature.ts'
import { readNetworkCounters } from './network-counters.ts'
import { readPiThrottled } from './pi-throttled.ts'
import type { SystemStats } from '../wire/monitor-protocol.ts'

export async function readSystemStats(dataDir: string): Promise<SystemStats> {
  const [load, temperatureC, throttled, memory, disk, network] = await Promise.all([
    readCpuLoad(),
    readCpuTemperatureC(),
    readPiThrottled(),
    si.mem(),
    statfs(dataDir),
    readNetworkCounters()
  ])
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
