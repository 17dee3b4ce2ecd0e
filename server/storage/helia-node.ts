import path from 'node:path'
import { close, open, read } from 'node:fs'
import { mkdir, readFile } from 'node:fs/promises'
import type { Blocks, Helia } from 'helia'
import { createLibp2p, type Libp2pOptions } from 'libp2p'
import { userAgent } from 'libp2p/user-agent'
import { FsBlockstore } from 'blockstore-fs'
import { NextToLast, type ShardingStrategy } from 'blockstore-fs/sharding'
import { LevelDatastore } from 'datastore-level'
import { mendingLevel } from './mending-level.ts'
import { tcp } from '@libp2p/tcp'
import { noise } from '@libp2p/noise'
import { yamux } from '@libp2p/yamux'
import { identify, type Identify } from '@libp2p/identify'
import { ping, type Ping } from '@libp2p/ping'
import { kadDHT, passthroughMapper, type KadDHT } from '@libp2p/kad-dht'
import { mdns } from '@libp2p/mdns'
import { peerIdFromString } from '@libp2p/peer-id'
import type { Libp2p, PrivateKey } from '@libp2p/interface'
import { multiaddr } from '@multiformats/multiaddr'
import { sha512 } from 'multiformats/hashes/sha2'
import type { CID } from 'multiformats/cid'
import { installBitswap } from './bitswap.ts'
import { createBlockFetcher, type BlockFetcher, type BlockHolders } from './block-fetcher.ts'
import { createContentReader, type ContentReader } from './content.ts'
import { createHeliaLight, HELIA_INFO, libp2pRouting } from './helia-parts.ts'
import { dialBootstrapPeers, dialDiscoveredPeers, type BootstrapPeer } from './peer-dialing.ts'

/** Our own DHT, so Seed One nodes never mix their routing tables with the public IPFS network. */
export const DHT_PROTOCOL = '/seed-one/kad/1.0.0'
/** The mDNS service Seed One boxes announce, so they find each other and not every libp2p node on the LAN. */
export const MDNS_SERVICE_TAG = '_seed-one-p2p._udp.local'

export type StorageServices = { identify: Identify; ping: Ping; dht: KadDHT }
/** A Helia node with its libp2p, and the objects made once for it. */
export type StorageNode = Helia & {
  libp2p: Libp2p<StorageServices>
  /** Gets the blocks it does not hold: over HTTP from boxes that hold them, else bitswap. */
  fetcher: BlockFetcher
  /** Reads its files (and fetches what it lacks). */
  content: ContentReader
  /**
   * Stops Helia and libp2p, then closes the stores on disk (Helia does not close stores it was given).
   * Safe to call more than once: every call waits for the same close.
   */
  close(): Promise<void>
}

export interface StorageNodeOptions {
  /** Helia's stores live in dataDir/helia/{blocks,datastore}. */
  dataDir: string
  /** The device's Ed25519 identity; it is the node's peer id. */
  privateKey: PrivateKey
  /** Multiaddrs to listen on, e.g. /ip4/127.0.0.1/tcp/0. */
  listen: string[]
  /** Multiaddrs ending in /p2p/<peer id>; dialled at start and reconnected when they drop. */
  bootstrap: string[]
  /** Find other boxes on the LAN by mDNS and dial them. */
  mdns?: boolean
  /** Wraps the blockstore bitswap serves peers from (quiet hours and the upload cap: server/replication/peer-serving.ts). */
  bitswapBlockstore?: (blocks: Blocks) => Blocks
  /** Where the node finds boxes that serve a DAG's blocks over HTTP; left out: bitswap only. */
  blockHolders?: BlockHolders
}

export class StorageNodeConfigError extends Error {
  override name = 'StorageNodeConfigError'
}

/** Named like interface-store's error, which is what Helia and its callers test for. */
class BlockNotFoundError extends Error {
  override name = 'NotFoundError'
}

/**
 * blockstore-fs streams a block in 64 KiB reads that Helia then concatenates again; reading the
 * file in one go is about 3x faster for 1 MiB blocks and is what the film stream spends its time on.
 */
class WholeFileBlockstore extends FsBlockstore {
  readonly #sharding: ShardingStrategy

  constructor(location: string) {
    const sharding = new NextToLast()
    super(location, { shardingStrategy: sharding })
    this.#sharding = sharding
  }

  override async *get(key: CID, options?: { signal?: AbortSignal }): AsyncGenerator<Uint8Array> {
    const { dir, file } = this.#sharding.encode(key)
    let bytes: Uint8Array
    try {
      bytes = await readFile(path.join(this.path, dir, file), { signal: options?.signal })
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') throw new BlockNotFoundError(`block ${key} is not in the blockstore`)
      throw err
    }
    yield bytes
  }

  /**
   * Reads up to buffer.length bytes of a block from `position` into `buffer`: the bytes read, or
   * undefined when the block is not on disk. Three file system calls and no allocation, for the
   * film stream; unlike get() it does not go through Helia (see readPiece in content.ts for why).
   */
  async readInto(key: CID, buffer: Uint8Array, position: number): Promise<number | undefined> {
    const { dir, file } = this.#sharding.encode(key)
    let fd: number
    try {
      fd = await new Promise<number>((resolve, reject) => {
        open(path.join(this.path, dir, file), 'r', (err, fd) => {
          if (err == null) resolve(fd)
          else reject(err)
        })
      })
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined
      throw err
    }
    try {
      return await new Promise<number>((resolve, reject) => {
        read(fd, buffer, 0, buffer.byteLength, position, (err, bytesRead) => {
          if (err == null) resolve(bytesRead)
          else reject(err)
        })
      })
    } finally {
      close(fd, () => {})
    }
  }
}

export async function createStorageNode(opts: StorageNodeOptions): Promise<StorageNode> {
  const bootstrap = opts.bootstrap.map(parseBootstrapAddress)
  const heliaDir = path.join(opts.dataDir, 'helia')
  await mkdir(heliaDir, { recursive: true, mode: 0o700 })
  const blockstore = new WholeFileBlockstore(path.join(heliaDir, 'blocks'))
  // the options LevelDatastore gives the Level it makes from a path
  const datastore = new LevelDatastore(
    mendingLevel<string, Uint8Array>(path.join(heliaDir, 'datastore'), { keyEncoding: 'utf8', valueEncoding: 'view' })
  )
  await blockstore.open()
  await datastore.open()

  let helia: (Helia & { libp2p: Libp2p<StorageServices> }) | undefined
  try {
    const libp2p = await createLibp2p(libp2pOptions(opts, datastore))
    // Helia's own defaults are the light ones (dag-pb, raw, sha2-256, identity), plus the sha2-512 `createHelia` adds; no
    // HTTP routers, gateways or trustless-gateway broker: this node only fetches blocks from other boxes by bitswap.
    helia = Object.assign(createHeliaLight({ blockstore, datastore, hashers: [sha512], routers: [libp2pRouting(libp2p)] }), { libp2p })
    helia.addMixin({ name: 'libp2p', start: async () => await libp2p.start(), stop: async () => await libp2p.stop() })
    installBitswap(helia, opts.bitswapBlockstore)
    await helia.start()
  } catch (err) {
    await helia?.stop().catch(() => {})
    await blockstore.close()
    await datastore.close()
    throw err
  }
  const fetcher = createBlockFetcher(helia, opts.blockHolders)
  const started = helia
  let closed: Promise<void> | undefined
  const close = async (): Promise<void> => {
    closed ??= (async () => {
      await started.stop()
      await blockstore.close()
      await datastore.close()
    })()
    await closed
  }
  const node: StorageNode = Object.assign(helia, { fetcher, content: createContentReader(helia, fetcher, blockstore), close })
  if (opts.mdns === true) dialDiscoveredPeers(node.libp2p)
  await dialBootstrapPeers(node.libp2p, bootstrap)
  return node
}

function libp2pOptions(opts: StorageNodeOptions, datastore: LevelDatastore): Libp2pOptions<StorageServices> {
  return {
    start: false,
    privateKey: opts.privateKey,
    // the peer store and the DHT's records persist beside Helia's
    datastore,
    nodeInfo: { ...HELIA_INFO, userAgent: `${HELIA_INFO.name}/${HELIA_INFO.version} ${userAgent()}` },
    addresses: { listen: opts.listen },
    transports: [tcp()],
    connectionEncrypters: [noise()],
    streamMuxers: [yamux()],
    peerDiscovery: opts.mdns === true ? [mdns({ serviceTag: MDNS_SERVICE_TAG })] : [],
    services: {
      identify: identify(),
      ping: ping(),
      // passthroughMapper keeps loopback and LAN addresses, which are what a home network has.
      dht: kadDHT({ protocol: DHT_PROTOCOL, clientMode: false, peerInfoMapper: passthroughMapper })
    }
  }
}

function parseBootstrapAddress(text: string): BootstrapPeer {
  try {
    const address = multiaddr(text)
    const id = address.getComponents().findLast(c => c.name === 'p2p')?.value
    if (id == null) throw new Error('no /p2p/ component')
    return { address, peerId: peerIdFromString(id) }
  } catch (err) {
    throw new StorageNodeConfigError(`bootstrap address ${JSON.stringify(text)} must be a multiaddr ending in /p2p/<peer id>`, {
      cause: err
    })
  }
}
