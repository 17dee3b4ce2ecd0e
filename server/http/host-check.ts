// The names this box answers to. A page on another site can point a name of its own at the box's
// address (DNS rebinding); its requests then carry that name in Host, and the browser treats the box as
// that site's origin. Refusing every Host that is not one of the box's own names defeats it.
import { readFile } from 'node:fs/promises'
import { hostname, networkInterfaces } from 'node:os'
import type { onRequestHookHandler } from 'fastify'
import { SeedError } from '../lib/errors.ts'
import { HOST_NAME, configuredName, deviceSuffix, hostOf } from './host-name.ts'

/** Interfaces come and go (DHCP, Wi-Fi): a name not known is looked up again after this. */
const REFRESH_MS = 10_000
/** Where the DHCP lease's domain ends up as the resolver's search list (resolvconf, systemd-resolved). */
const RESOLV_CONF_FILES = ['/etc/resolv.conf', '/run/systemd/resolve/resolv.conf']

export interface HostCheckOptions {
  deviceId: string
  /** The URL other boxes reach this one at: its host is one of the box's names. */
  publicUrl: string
  /** Names the owner adds (--allowed-host). */
  allowedHosts: string[]
  /** Tests give the machine's names and search domains; by default os.hostname() and resolv.conf. */
  machine?: () => Promise<{ hostname: string; searchDomains: string[]; addresses: string[] }>
}

/** The search domains resolv.conf lists (`search` and `domain` lines). */
export async function searchDomains(files = RESOLV_CONF_FILES): Promise<string[]> {
  const domains = new Set<string>()
  for (const file of files) {
    const text = await readFile(file, 'utf8').catch(() => '')
    for (const line of text.split('\n')) {
      const [keyword, ...names] = line.trim().split(/\s+/)
      if (keyword === 'search' || keyword === 'domain') for (const name of names) domains.add(name.replace(/\.$/, ''))
    }
  }
  return [...domains]
}

async function thisMachine(): Promise<{ hostname: string; searchDomains: string[]; addresses: string[] }> {
  const addresses = Object.values(networkInterfaces()).flatMap(list => (list ?? []).map(a => a.address))
  return { hostname: hostname(), searchDomains: await searchDomains(), addresses }
}

/** The box's own names (every one compared whole: never by prefix or suffix). */
export async function ownNames(opts: HostCheckOptions): Promise<Set<string>> {
  const machine = await (opts.machine ?? thisMachine)()
  const names = new Set(['localhost', '127.0.0.1', '::1', HOST_NAME, `seedone-${deviceSuffix(opts.deviceId)}.local`])
  const host = machine.hostname.toLowerCase()
  const short = host.split('.')[0]
  // avahi, where it runs, also answers to <hostname>.local
  for (const name of [host, short, `${short}.local`, ...machine.searchDomains.map(domain => `${short}.${domain.toLowerCase()}`)]) {
    names.add(name)
  }
  // fe80::1%eth0: the zone is not part of a Host header's literal
  for (const address of machine.addresses) names.add(address.toLowerCase().replace(/%.*$/, ''))
  for (const extra of [new URL(opts.publicUrl).host, ...opts.allowedHosts]) {
    const name = configuredName(extra)
    if (name !== undefined) names.add(name)
  }
  return names
}

/**
 * The onRequest hook for every route: a request whose Host is not one of the box's own names is refused
 * with 421 before anything else reads it. The names are read again (at most every REFRESH_MS) when an
 * unknown one arrives, so an address the box gets later is accepted.
 */
export async function createHostCheck(opts: HostCheckOptions): Promise<onRequestHookHandler> {
  let names = await ownNames(opts)
  let readAt = Date.now()
  const known = async (name: string): Promise<boolean> => {
    if (names.has(name)) return true
    if (Date.now() - readAt < REFRESH_MS) return false
    names = await ownNames(opts)
    readAt = Date.now()
    return names.has(name)
  }
  return async request => {
    const name = hostOf(request.headers.host)
    if (name === undefined) throw new SeedError('SEED_BAD_HOST_HEADER', 'the request has no usable Host header')
    if (!(await known(name))) {
      throw new SeedError(
        'SEED_WRONG_HOST',
        `this Seed One does not answer to the name "${name}": open it as seedone.local or by its address, or add the name with --allowed-host`
      )
    }
  }
}
