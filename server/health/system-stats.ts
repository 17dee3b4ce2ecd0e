import si from 'systeminformation'
import { readFile } from 'node:fs/promises'
import os from 'node:os'

/** One reading of the machine, as the Health screen, the reports and /metrics show it. */
export interface SystemStats {
  at: string
  cpu: { loadPercent: number; load1: number; cores: number; temperatureC: number | null; throttled: number | null }
  memory: { totalBytes: number; usedBytes: number; availableBytes: number }
  /** The file system holding the data directory. */
  disk: { totalBytes: number; usedBytes: number; freeBytes: number }
  /** Counters summed over every interface but loopback, since boot. */
  network: { rxBytes: number; txBytes: number }
}

// The Pi firmware's throttling flags (under-voltage, frequency capped, throttled, soft temperature limit).
const PI_THROTTLED = '/sys/devices/platform/soc/soc:firmware/get_throttled'

async function piThrottled(): Promise<number | null> {
  try {
    return Number.parseInt((await readFile(PI_THROTTLED, 'utf8')).trim(), 16)
  } catch {
    return null
  }
}

/** The mount that holds `dir`: the longest mount point that is a prefix of it. */
function mountOf<T extends { mount: string }>(mounts: T[], dir: string): T | undefined {
  return mounts
    .filter(m => dir === m.mount || dir.startsWith(m.mount.endsWith('/') ? m.mount : `${m.mount}/`))
    .sort((a, b) => b.mount.length - a.mount.length)[0]
}

export async function readSystemStats(dataDir: string): Promise<SystemStats> {
  const [load, temperature, memory, disks, interfaces, throttled] = await Promise.all([
    si.currentLoad(),
    si.cpuTemperature(),
    si.mem(),
    si.fsSize(),
    si.networkStats('*'),
    piThrottled()
  ])
  const disk = mountOf(disks, dataDir)
  const external = interfaces.filter(i => i.iface !== 'lo')
  return {
    at: new Date().toISOString(),
    cpu: {
      loadPercent: Math.round(load.currentLoad * 10) / 10,
      load1: os.loadavg()[0],
      cores: os.cpus().length,
      // systeminformation reports null (or -1 on some boards) where no sensor is readable, as in a VM.
      temperatureC: typeof temperature.main === 'number' && temperature.main > 0 ? temperature.main : null,
      throttled
    },
    memory: { totalBytes: memory.total, usedBytes: memory.total - memory.available, availableBytes: memory.available },
    disk: { totalBytes: disk?.size ?? 0, usedBytes: disk?.used ?? 0, freeBytes: disk?.available ?? 0 },
    network: {
      rxBytes: external.reduce((sum, i) => sum + i.rx_bytes, 0),
      txBytes: external.reduce((sum, i) => sum + i.tx_bytes, 0)
    }
  }
}
