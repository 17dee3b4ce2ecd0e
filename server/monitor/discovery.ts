// Finding a box from a TV or phone that resolves none of its names, as Philips Hue bridges are found: a
// box's reports say where its UI listens on its LAN; a visitor from the same public address (the same home
// behind one router) is shown those links. Kept in memory only: the monitor writes no home's address to disk.
import { isIP } from 'node:net'
import { deviceSuffix } from '../http/host-name.ts'
import type { HealthReport } from '../wire/monitor-protocol.ts'

/** A box as the discovery page lists it. */
export interface DiscoveredBox {
  /** seedone-xxxx: the name the box advertises over mDNS, to tell two boxes apart. */
  name: string
  /** http://<lan-address>:<port>/ (no port for 80), IPv4 first. */
  urls: string[]
  /** Monitor time of the box's latest report. */
  lastReportAt: string
}

export interface Discovery {
  /** Records the box's latest accepted report and the address it came from; a report without LAN addresses removes the box. */
  seen(report: HealthReport, sourceIp: string, at: Date): void
  /** The boxes that reported from `visitorIp`'s network within the node timeout, still admitted. */
  boxesFor(visitorIp: string, now?: Date): Promise<DiscoveredBox[]>
}

/**
 * Where a visitor and a box count as the same home: the same IPv4 address (a router's NAT), or the same
 * IPv6 /64 (each IPv6 device has addresses of its own within the home's prefix).
 */
export function networkOf(ip: string): string {
  const address = ip.replace(/^::ffff:(?=\d+\.)/, '')
  if (isIP(address) !== 6) return address
  const [head, tail] = address.split('::')
  const groups = (part: string | undefined): string[] => (part === undefined || part === '' ? [] : part.split(':'))
  const known = groups(head)
  const all = tail === undefined ? known : [...known, ...Array<string>(8 - known.length - groups(tail).length).fill('0'), ...groups(tail)]
  return `${all
    .slice(0, 4)
    .map(group => parseInt(group, 16).toString(16))
    .join(':')}::/64`
}

const urlOf = (address: string, port: number): string =>
  `http://${isIP(address) === 6 ? `[${address}]` : address}${port === 80 ? '' : `:${port}`}/`

export function createDiscovery(opts: { nodeTimeoutMs: number; admits(deviceId: string): Promise<boolean> }): Discovery {
  const boxes = new Map<string, { network: string; box: DiscoveredBox }>()
  // forgotten once silent past the node timeout, whether or not anyone asks
  const forgetSilent = (now: Date): void => {
    for (const [deviceId, { box }] of boxes) if (now.getTime() - Date.parse(box.lastReportAt) > opts.nodeTimeoutMs) boxes.delete(deviceId)
  }
  return {
    seen: (report, sourceIp, at) => {
      forgetSilent(at)
      const lan = report.lan
      if (lan === undefined || lan.addresses.length === 0) {
        boxes.delete(report.deviceId)
        return
      }
      const box = {
        name: `seedone-${deviceSuffix(report.deviceId)}`,
        urls: lan.addresses.map(address => urlOf(address, lan.uiPort)),
        lastReportAt: at.toISOString()
      }
      boxes.set(report.deviceId, { network: networkOf(sourceIp), box })
    },
    boxesFor: async (visitorIp, now = new Date()) => {
      forgetSilent(now)
      const network = networkOf(visitorIp)
      const found: DiscoveredBox[] = []
      for (const [deviceId, entry] of boxes) {
        if (entry.network === network && (await opts.admits(deviceId))) found.push(entry.box)
      }
      return found.sort((a, b) => a.name.localeCompare(b.name))
    }
  }
}
