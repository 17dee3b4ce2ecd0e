// What every seed-one process is made of, whatever its roles: the state database at this release's
// data version, the device identity, the chain, the Helia node with the peer serving in front of it,
// the settings and the pairing. The roles (server/roles/) are started on top of these.
import { mkdir } from 'node:fs/promises'
import type { DaemonConfig } from '../config.ts'
import { createShutdown } from '../lib/shutdown.ts'
import { openStateDb, section, type StateDb } from '../storage/state-db.ts'
import { createStorageNode, type StorageNode } from '../storage/helia-node.ts'
import { loadOrCreateDeviceIdentity, type DeviceIdentity } from '../identity/device-identity.ts'
import { connectFilmToken, type FilmTokenClient } from '../chain/film-token.ts'
import { createSettingsStore, type SettingsStore } from '../settings/settings.ts'
import { createPairingStore, type PairingStore } from '../pairing/pairing-store.ts'
import { createPeerServing, type PeerServing } from '../replication/peer-serving.ts'
import { registryHolders } from '../replication/block-holders.ts'
import { createFilmStreams, type FilmStreams } from '../library/film-streams.ts'
import { countBuffersInHeapLimit } from '../lib/gc-tuning.ts'
import { keepListenPort, keptListenAddresses } from './kept-p2p-port.ts'
import { MIGRATIONS } from '../update/migration-list.ts'
import { migrateToLatest, type MigrationStep } from '../update/migrations.ts'

/** The parts every role is given (model: libp2p's components, Tailscale's tsd.System). */
export interface Components {
  config: DaemonConfig
  db: StateDb
  identity: DeviceIdentity
  chain: FilmTokenClient
  helia: StorageNode
  settings: SettingsStore
  /** What the box serves other boxes (quiet hours, upload cap) and has served. */
  peerServing: PeerServing
  /** The film responses open now: playback has priority over serving peers while any is. */
  filmStreams: FilmStreams
  /** The owner this box is paired with, and their signed authorisation. */
  pairing: PairingStore
  /** The data migrations this start ran, for the log once there is one. */
  migrated: MigrationStep[]
  multiaddrs(): string[]
}

export interface Core {
  components: Components
  /** Closes everything the core opened, in reverse order. */
  close(): Promise<void>
}

/** Opens the core of one seed-one process; on a failure, what was opened is closed again. */
export async function createCore(config: DaemonConfig): Promise<Core> {
  countBuffersInHeapLimit()
  await mkdir(config.dataDir, { recursive: true, mode: 0o700 })
  const db = await openStateDb(config.dataDir)
  const shutdown = createShutdown()
  shutdown.add(() => db.close())
  try {
    // before anything reads the state: the data moves to this release's data version (RELEASE.md)
    const migrated: MigrationStep[] = []
    await migrateToLatest(db, MIGRATIONS, step => migrated.push(step))
    const identity = await loadOrCreateDeviceIdentity(config.dataDir)
    const chainInfo = section(db, 'chain')
    const chain = await connectFilmToken(config.chain, await chainInfo.get('chainId'))
    await chainInfo.put('chainId', chain.chainId)
    shutdown.add(() => chain.provider.destroy())

    const settings = createSettingsStore(db)
    const peerServing = await createPeerServing(settings)
    shutdown.add(() => peerServing.close())
    const helia = await createStorageNode({
      dataDir: config.dataDir,
      privateKey: identity.privateKey,
      listen: await keptListenAddresses(config.dataDir, config.p2pListen, config.keepP2pPort === true),
      bootstrap: config.peers,
      mdns: config.mdns,
      bitswapBlockstore: peerServing.bitswapBlockstore,
      blockHolders:
        config.monitorUrl === undefined
          ? undefined
          : registryHolders({ monitorUrl: config.monitorUrl, selfId: identity.deviceId, store: section(db, 'replication') })
    })
    shutdown.add(() => helia.close())
    const filmStreams = createFilmStreams()
    peerServing.setActiveStreams(() => filmStreams.count())
    const multiaddrs = (): string[] => helia.libp2p.getMultiaddrs().map(ma => ma.toString())
    await keepListenPort(config.dataDir, multiaddrs(), config.keepP2pPort === true)
    const components = {
      config,
      db,
      identity,
      chain,
      helia,
      settings,
      peerServing,
      filmStreams,
      pairing: createPairingStore(db),
      migrated,
      multiaddrs
    }
    return { components, close: shutdown.run }
  } catch (err) {
    await shutdown.run()
    throw err
  }
}
