// The Pi firmware's throttling flags (under-voltage, frequency capped, throttled, soft temperature limit):
// the firmware driver's sysfs file, else `vcgencmd get_throttled` run asynchronously; null off a Pi.
import { execFile } from 'node:child_process'
import { readFile } from 'node:fs/promises'
import { promisify } from 'node:util'

const execFileAsync = promisify(execFile)
const PI_THROTTLED = '/sys/devices/platform/soc/soc:firmware/get_throttled'

// Once vcgencmd has failed (absent, or no access to the firmware) it is not started again with every reading.
let vcgencmdFailed = false

function hex(text: string): number | null {
  const flags = Number.parseInt(text, 16)
  return Number.isNaN(flags) ? null : flags
}

async function fromVcgencmd(): Promise<number | null> {
  if (vcgencmdFailed) return null
  try {
    const { stdout } = await execFileAsync('vcgencmd', ['get_throttled'], { timeout: 5_000 })
    const flags = /throttled=0x([0-9a-f]+)/i.exec(stdout)
    if (flags !== null) return hex(flags[1])
  } catch {
    // handled below
  }
  vcgencmdFailed = true
  return null
}

/** The get_throttled bit field, or null where neither the sysfs file nor vcgencmd gives it. */
export async function readPiThrottled(sysfsFile = PI_THROTTLED): Promise<number | null> {
  try {
    const flags = hex((await readFile(sysfsFile, 'utf8')).trim())
    if (flags !== null) return flags
  } catch {
    // not a Pi, or a kernel without the firmware driver's file
  }
  return fromVcgencmd()
}
