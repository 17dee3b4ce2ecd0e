// seedone.local on the LAN when no avahi does it: a Seed One installed on an existing machine
// (scripts/install.sh) that runs no avahi-daemon. The image runs avahi, whose socket turns this off.
import { stat } from 'node:fs/promises'
import { isIP } from 'node:net'
import Bonjour from 'bonjour-service'
import type { FastifyBaseLogger } from 'fastify'
import { HOST_NAME, deviceSuffix } from '../http/host-name.ts'

export const AVAHI_SOCKET = '/run/avahi-daemon/socket'
/** How long other Seed Ones on the LAN are listened for before a host name is chosen. */
const LISTEN_MS = 2000

export interface LanAdvertisement {
  /** The host name this box answers to: seedone.local, or seedone-xxxx.local when another box has it. */
  hostName(): Promise<string>
  close(): Promise<void>
}

export interface AdvertiseOptions {
  /** The HTTP server's host (0.0.0.0 for every interface) and port. */
  host: string
  port: number
  deviceId: string
  version: string
  log: FastifyBaseLogger
  /** Where avahi-daemon listens, when it runs. */
  avahiSocket?: string
}

const isLoopback = (host: string): boolean => host === 'localhost' || host === '::1' || host.startsWith('127.')

async function avahiRuns(socket: string): Promise<boolean> {
  return await stat(socket).then(
    s => s.isSocket(),
    () => false
  )
}

/**
 * Advertises `seedone.local` and an `_http._tcp` service "Seed One xxxx" for the UI, unless avahi runs
 * (it advertises the box itself) or the server listens on loopback only (no one on the LAN could use
 * it). Returns undefined when it does not advertise. It first listens for other Seed Ones for a moment
 * and takes seedone-xxxx.local when another box already answers to seedone.local.
 */
export async function advertiseOnLan(opts: AdvertiseOptions): Promise<LanAdvertisement | undefined> {
  if (isLoopback(opts.host)) return undefined
  if (await avahiRuns(opts.avahiSocket ?? AVAHI_SOCKET)) {
    opts.log.info('avahi-daemon runs: it advertises seedone.local')
    return undefined
  }
  const suffix = deviceSuffix(opts.deviceId)
  // A specific address: answer on that interface only. Bound to the wildcard all the same, since a socket
  // bound to a unicast address receives no multicast.
  const networkOptions = isIP(opts.host) === 4 && opts.host !== '0.0.0.0' ? { interface: opts.host, bind: '0.0.0.0' } : {}
  // bonjour-service hands these options to multicast-dns; its typings only know the service fields
  const bonjour = new Bonjour(networkOptions as ConstructorParameters<typeof Bonjour>[0], (err: Error) =>
    opts.log.warn({ err: err.message }, 'mDNS advertisement failed')
  )

  const otherBoxes = bonjour.find({ type: 'http', txt: { product: 'seed-one' } })
  const hostName = new Promise<string>(resolve => {
    setTimeout(() => {
      otherBoxes.stop()
      const taken = otherBoxes.services.some(service => service.host === HOST_NAME && service.txt?.deviceid !== opts.deviceId)
      resolve(taken ? `seedone-${suffix}.local` : HOST_NAME)
    }, LISTEN_MS).unref()
  })
  let stopped = false
  const published = hostName.then(host => {
    if (stopped) return
    bonjour.publish({
      name: `Seed One ${suffix}`,
      type: 'http',
      port: opts.port,
      host,
      txt: { path: '/', product: 'seed-one', deviceid: opts.deviceId, version: opts.version }
    })
    opts.log.info({ host, port: opts.port }, 'advertising the UI over mDNS')
  })

  return {
    hostName: async () => await hostName,
    close: async () => {
      stopped = true
      otherBoxes.stop()
      // goodbye packets first, so browsers drop the box at once rather than when its records expire
      await new Promise<void>(resolve => bonjour.unpublishAll(() => resolve()))
      await new Promise<void>(resolve => bonjour.destroy(() => resolve()))
      await published.catch(() => {})
    }
  }
}
