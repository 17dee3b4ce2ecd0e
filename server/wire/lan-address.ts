import { BlockList, isIP } from 'node:net'

// The addresses a box may report as its LAN addresses: private ones only, so the discovery page links
// nowhere but into the visitor's own network (never to a public host, never to loopback).
const lan = new BlockList()
lan.addSubnet('10.0.0.0', 8, 'ipv4')
lan.addSubnet('172.16.0.0', 12, 'ipv4')
lan.addSubnet('192.168.0.0', 16, 'ipv4')
lan.addSubnet('fc00::', 7, 'ipv6')

/** At most this many LAN addresses in a report (a box has one or two interfaces, each with an IPv4 and a ULA or so). */
export const MAX_LAN_ADDRESSES = 8

export const LAN_ADDRESS_RULE = 'a private address: IPv4 in 10/8, 172.16/12 or 192.168/16, or IPv6 in fc00::/7'

/** True for an IPv4 or IPv6 literal (no zone, no brackets) in a private range. */
export function isLanAddress(address: string): boolean {
  const family = isIP(address)
  return family !== 0 && lan.check(address, family === 4 ? 'ipv4' : 'ipv6')
}
