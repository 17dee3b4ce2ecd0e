import type { NetworkInterfaceInfo } from 'node:os'
import { listenAddresses } from '../lib/listen-addresses.ts'
import { isLanAddress, MAX_LAN_ADDRESSES } from '../wire/lan-address.ts'
import type { LanPresence } from '../wire/monitor-protocol.ts'

/**
 * Where a browser on the box's network opens its UI: the private ones of the addresses the server listens
 * on (server/lib/listen-addresses.ts) and its port. A box listening on loopback only has none.
 */
export function lanPresence(listenHost: string, uiPort: number, interfaces?: NodeJS.Dict<NetworkInterfaceInfo[]>): LanPresence {
  return { addresses: [...new Set(listenAddresses(listenHost, interfaces).filter(isLanAddress))].slice(0, MAX_LAN_ADDRESSES), uiPort }
}
