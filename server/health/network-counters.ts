// Bytes received and sent since boot, from /proc/net/dev read asynchronously (systeminformation's
// networkStats('*') scans the interfaces with execSync, `ip`, `nmcli` and more whenever they change).
import { readFile } from 'node:fs/promises'
import os from 'node:os'

/** /proc/net/dev: two header lines, then `name: rx_bytes packets errs drop fifo frame compressed multicast tx_bytes …`. */
export function parseNetDev(text: string): Map<string, { rxBytes: number; txBytes: number }> {
  const counters = new Map<string, { rxBytes: number; txBytes: number }>()
  for (const line of text.split('\n').slice(2)) {
    const colon = line.indexOf(':')
    if (colon < 0) continue
    const fields = line
      .slice(colon + 1)
      .trim()
      .split(/\s+/)
      .map(Number)
    counters.set(line.slice(0, colon).trim(), { rxBytes: fields[0], txBytes: fields[8] })
  }
  return counters
}

/** Counters summed over the interfaces that have an address, but loopback. */
export async function readNetworkCounters(): Promise<{ rxBytes: number; txBytes: number }> {
  const counters = parseNetDev(await readFile('/proc/net/dev', 'utf8'))
  // An alias (eth0:1) shares its interface's counters.
  const names = new Set(Object.keys(os.networkInterfaces()).map(name => name.split(':')[0]))
  names.delete('lo')
  let rxBytes = 0
  let txBytes = 0
  for (const name of names) {
    rxBytes += counters.get(name)?.rxBytes ?? 0
    txBytes += counters.get(name)?.txBytes ?? 0
  }
  return { rxBytes, txBytes }
}
