// The address a phone on the LAN is given for a server (the demo's --host): for a wildcard, the
// machine's first non-internal IPv4 address; never loopback while there is another, never a zoned one.
import t from 'tap'
import type { NetworkInterfaceInfo } from 'node:os'
import { lanAuthority, listenAddresses } from '../server/lib/listen-addresses.ts'

const info = (address: string, internal = false): NetworkInterfaceInfo =>
  ({ address, internal, family: address.includes(':') ? 'IPv6' : 'IPv4' }) as NetworkInterfaceInfo
const interfaces = {
  lo: [info('127.0.0.1', true), info('::1', true)],
  wlan0: [info('fe80::1'), info('fd00::2'), info('192.168.1.20')],
  eth1: [info('10.0.0.5')]
}

t.test('a wildcard is reached at every non-internal address, IPv4 first', async t => {
  t.same(listenAddresses('0.0.0.0', interfaces), ['192.168.1.20', '10.0.0.5'])
  t.same(listenAddresses('::', interfaces), ['192.168.1.20', '10.0.0.5', 'fe80::1', 'fd00::2'])
  t.same(listenAddresses('192.168.1.20', interfaces), ['192.168.1.20'], 'an address is reached at itself')
})

t.test('a phone is given the first LAN address, the port, and loopback only when there is nothing else', async t => {
  t.equal(lanAuthority('0.0.0.0', 8080, interfaces), '192.168.1.20:8080')
  t.equal(lanAuthority('127.0.0.1', 8080, interfaces), '127.0.0.1:8080', 'the default stays on loopback')
  t.equal(lanAuthority('10.0.0.5', 80, interfaces), '10.0.0.5:80')
  const ipv6Only = { lo: interfaces.lo, wlan0: [info('fe80::1'), info('fd00::2')] }
  t.equal(lanAuthority('::', 8080, ipv6Only), '[fd00::2]:8080', 'IPv6 in brackets; the link-local one left out')
  t.equal(lanAuthority('0.0.0.0', 8080, { lo: interfaces.lo }), '127.0.0.1:8080', 'a machine without a LAN address')
})
