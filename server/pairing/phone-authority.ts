// The box as a phone reaches it. Android (Chrome, Google TV) resolves no .local name, and a phone may
// use another resolver than the TV, so the pairing page's address names the box by its LAN address.
import { isIP } from 'node:net'
import { networkInterfaces, type NetworkInterfaceInfo } from 'node:os'
import { hostOf } from '../http/host-name.ts'

/**
 * The authority (host and the Host header's port) of the pairing page a phone opens: an address literal
 * the TV used is kept; a name (seedone.local, seedone, seedone.lan) is replaced by the IPv4 address of the
 * interface the request came in on (`localAddress`, the address the TV reached), or by that address itself
 * when it is IPv6 on an interface without IPv4 (not link-local: a phone cannot use its zone).
 */
export function phoneAuthority(
  hostHeader: string,
  localAddress: string | undefined,
  interfaces: NodeJS.Dict<NetworkInterfaceInfo[]> = networkInterfaces()
): string {
  const name = hostOf(hostHeader)
  if (name === undefined || isIP(name) !== 0 || localAddress === undefined) return hostHeader
  const port = new URL(`http://${hostHeader}`).port
  const address = reachableAddress(localAddress.replace(/^::ffff:(?=\d+\.)/, ''), interfaces)
  if (address === undefined) return hostHeader
  const host = isIP(address) === 6 ? `[${address}]` : address
  return port === '' ? host : `${host}:${port}`
}

function reachableAddress(reached: string, interfaces: NodeJS.Dict<NetworkInterfaceInfo[]>): string | undefined {
  if (isIP(reached) === 4) return reached
  const own = Object.values(interfaces).find(list => list?.some(info => info.address.replace(/%.*$/, '') === reached))
  const ipv4 = own?.find(info => info.family === 'IPv4')?.address
  if (ipv4 !== undefined) return ipv4
  return isIP(reached) === 6 && !/^fe[89ab]/i.test(reached) ? reached : undefined
}
