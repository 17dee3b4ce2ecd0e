// Helia's node class and its libp2p router, without Helia's default libp2p configuration, and
// bitswap's block broker.
//
// `helia` and `@helia/libp2p` export only their entry modules, and both entries import
// libp2p-defaults, which loads every transport and service Helia offers (WebRTC with its native
// library, AutoTLS, UPnP, websockets, relay…) even when the caller replaces all of them: ~1 000
// modules and ~22 MB resident for parts this node never runs. These two files are what
// `createHeliaLight` and `withLibp2p` use; they are loaded by path from the installed (pinned)
// packages, and a release that moves them fails every storage test at import. `@helia/bitswap`
// exports only `withBitswap`, which builds its broker on the node's own blockstore: bitswap.ts
// builds the broker itself, on the blockstore it serves peers from.
import type { BlockBroker, HeliaInit, Helia, Router } from 'helia'
import type { Libp2p, Startable } from '@libp2p/interface'
import type { BitswapComponents, BitswapOptions } from '@helia/bitswap'

type HeliaConstructor = new (init: HeliaInit & { name: string; version: string }) => Helia
type BitswapBrokerConstructor = new (
  components: BitswapComponents,
  init?: BitswapOptions
) => BlockBroker & Startable & Required<Pick<BlockBroker, 'announce' | 'retrieve' | 'createSession'>>

const beside = (entry: string, file: string): string => new URL(file, import.meta.resolve(entry)).href

const heliaModule = (await import(beside('helia', './helia.js'))) as { Helia: HeliaConstructor }
const { name, version } = (await import(beside('helia', './version.js'))) as { name: string; version: string }
/** Helia's name and version, which libp2p also announces in its user agent. */
export const HELIA_INFO = { name, version }
const routingModule = (await import(beside('@helia/libp2p', './routing.js'))) as { libp2pRouting: (libp2p: Libp2p) => Router }

/** Helia with no block brokers or routers beyond those in `init`: the equivalent of `createHeliaLight`. */
export function createHeliaLight(init: HeliaInit): Helia {
  return new heliaModule.Helia({ ...HELIA_INFO, ...init })
}

/** The router that answers Helia's routing (provide, findProviders…) with libp2p's DHT. */
export const libp2pRouting = routingModule.libp2pRouting

/** The block broker `withBitswap` adds to a node, built from the components given (@helia/bitswap's block-broker.js). */
export const { BitswapBlockBroker } = (await import(beside('@helia/bitswap', './block-broker.js'))) as {
  BitswapBlockBroker: BitswapBrokerConstructor
}
