import { networkInterfaces, type NetworkInterfaceInfo } from 'node:os'
import { isLanAddress, MAX_LAN_ADDRESSES } from '../wire/lan-address.ts'
import type { LanPresence } from '../wire/monitor-protocol.ts'

/**
 * Where a browser on the box's network opens its UI: the private addresses the server listens on (every
 * interface's for a wildcard host, IPv4 first; only IPv4 ones for 0.0.0.0) and its port. A box listening
 * on loopback only has none.
 */
export function lanPresence(
  listenHost: string,
  uiPort: number,
  interfaces: NodeJS.Dict<NetworkInterfaceInfo[]> = networkInterfaces()
): LanPresence {
  const wildcard = listenHost === '0.0.0.0' || listenHost === '::'
  const candidates = wildcard
    ? Object.values(interfaces)
        .flatMap(list => list ?? [])
        .filter(info => !info.internal && (listenHost === '::' || info.family === 'IPv4'))
        .sort((a, b) => (a.family === b.family ? 0 : a.family === 'IPv4' ? -1 : 1))
        .map(info => info.address)
    : [listenHost]
  return { addresses: [...new Set(candidates.filter(isLanAddress))].slice(0, MAX_LAN_ADDRESSES), uiPort }
}
