// A box's libp2p port stays the same from one start to the next, so the `--peer` addresses other boxes
// were given keep working: without --p2p-listen, the first start takes any free port and keeps it in the
// data directory, and every later start listens on it again.
import { readFile, writeFile } from 'node:fs/promises'
import path from 'node:path'
import { assertPortFree } from '../lib/port-check.ts'

const PORT_FILE = 'p2p-port'

/** The TCP port of a listen multiaddr, e.g. 4001 of /ip4/0.0.0.0/tcp/4001. */
const tcpPort = (address: string): number | undefined => {
  const port = /\/tcp\/(\d+)/.exec(address)?.[1]
  return port === undefined ? undefined : Number(port)
}

/**
 * The listen addresses of this start: `listen` as configured, or (`keep`: no --p2p-listen given) its
 * any-port default on the port kept from the first start, checked to be free.
 */
export async function keptListenAddresses(dataDir: string, listen: string[], keep: boolean): Promise<string[]> {
  if (!keep) return listen
  const file = path.join(dataDir, PORT_FILE)
  const kept = await readFile(file, 'utf8').then(
    text => Number(text.trim()),
    () => undefined
  )
  if (kept === undefined || !Number.isInteger(kept) || kept <= 0) return listen
  const addresses = listen.map(address => address.replace(/\/tcp\/0(?=\/|$)/, `/tcp/${kept}`))
  const host = /^\/ip[46]\/([^/]+)/.exec(addresses[0] ?? '')?.[1] ?? '127.0.0.1'
  await assertPortFree(host, kept, {
    flag: '--p2p-listen',
    role: `the libp2p port kept in ${file} since this box's first start, which other boxes' --peer addresses name`
  })
  return addresses
}

/** After the first start without --p2p-listen: keeps the port libp2p took, for the starts after it. */
export async function keepListenPort(dataDir: string, listening: string[], keep: boolean): Promise<void> {
  if (!keep) return
  const file = path.join(dataDir, PORT_FILE)
  const port = listening.map(tcpPort).find(p => p !== undefined && p > 0)
  if (port === undefined) return
  const kept = await readFile(file, 'utf8').catch(() => undefined)
  if (kept?.trim() !== String(port)) await writeFile(file, `${port}\n`)
}
