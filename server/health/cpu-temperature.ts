// The CPU's temperature from the kernel's thermal zones, read asynchronously (systeminformation's
// cpuTemperature cats them through execSync).
import { readdir, readFile } from 'node:fs/promises'
import path from 'node:path'

const THERMAL_DIR = '/sys/class/thermal'
// The zone of the CPU or the SoC holding it: "cpu-thermal" on a Pi, "soc-thermal" on other ARM boards, "x86_pkg_temp" on a PC.
const CPU_ZONE = /cpu|soc|x86_pkg_temp/i

/** Degrees Celsius to 0.1 from the first CPU thermal zone, or null where there is none (as in a VM). */
export async function readCpuTemperatureC(thermalDir = THERMAL_DIR): Promise<number | null> {
  let zones: string[]
  try {
    zones = (await readdir(thermalDir)).filter(name => /^thermal_zone\d+$/.test(name))
  } catch {
    return null
  }
  zones.sort((a, b) => Number(a.slice('thermal_zone'.length)) - Number(b.slice('thermal_zone'.length)))
  for (const zone of zones) {
    try {
      if (!CPU_ZONE.test(await readFile(path.join(thermalDir, zone, 'type'), 'utf8'))) continue
      const milliC = Number.parseInt(await readFile(path.join(thermalDir, zone, 'temp'), 'utf8'), 10)
      if (milliC > 0) return Math.round(milliC / 100) / 10
    } catch {
      // A zone whose sensor is off refuses reads (ENODATA, EINVAL): try the next one.
    }
  }
  return null
}
