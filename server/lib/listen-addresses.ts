import { isIP } from 'node:net'
import { networkInterfaces, type NetworkInterfaceInfo } from 'node:os'

export const isWildcardHost = (host: string): boolean => host === '0.0.0.0' || host === '::'

/**
 * The addresses another machine reaches a server listening on `listenHost` at: for a wildcard, every
 * non-internal interface's (IPv4 first; only IPv4 ones for 0.0.0.0), else `listenHost` itself.
 */
export function listenAddresses(listenHost: string, interfaces: NodeJS.Dict<NetworkInterfaceInfo[]> = networkInterfaces()): string[] {
  if (!isWildcardHost(listenHost)) return [listenHost]
  return Object.values(interfaces)
    .flatMap(list => list ?? [])
    .filter(info => !info.internal && (listenHost === '::' || info.family === 'IPv4'))
    .sort((a, b) => (a.family === b.family ? 0 : a.family === 'IPv4' ? -1 : 1))
    .map(info => info.address)
}

/**
 * The authority (host:port) a phone on the LAN opens a server listening on `listenHost` by: the first
 * of its listen addresses (a link-local IPv6 is left out: a phone cannot use its zone), or loopback on
 * a machine without any.
 */
export function lanAuthority(listenHost: string, port: number, interfaces?: NodeJS.Dict<NetworkInterfaceInfo[]>): string {
  const usable = listenAddresses(listenHost, interfaces).filter(address => !/^fe[89ab]|%/i.test(address))
  const host = usable[0] ?? '127.0.0.1'
  return `${isIP(host) === 6 ? `[${host}]` : host}:${port}`
}
