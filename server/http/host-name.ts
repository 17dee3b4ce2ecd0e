import { createHash } from 'node:crypto'
import { isIP } from 'node:net'

/** The name a box answers to on its LAN (mDNS), and its fallback seedone-<deviceSuffix>.local when another box has it. */
export const HOST_NAME = 'seedone.local'

/** Four hex digits from the device id: the suffix of this box's fallback host name and service name. */
export const deviceSuffix = (deviceId: string): string => createHash('sha256').update(deviceId).digest('hex').slice(0, 4)

/**
 * The host name of a Host header, lowercased, without its port and without the brackets of an IPv6
 * literal; undefined when it is no host at all.
 */
export function hostOf(header: string | undefined): string | undefined {
  if (header === undefined || header.length > 255) return undefined
  const match = /^(?:\[([0-9a-fA-F:.]+)\]|([A-Za-z0-9.-]+))(?::(\d{1,5}))?$/.exec(header)
  if (match === null) return undefined
  const name = (match[1] ?? match[2]).toLowerCase().replace(/\.$/, '')
  if (match[1] !== undefined && isIP(name) !== 6) return undefined
  return name
}

/** A name the configuration adds (`--allowed-host`, publicUrl's host) as Host headers carry it; a bare IPv6 address too. */
export function configuredName(name: string): string | undefined {
  return isIP(name) === 6 ? name.toLowerCase() : hostOf(name)
}
