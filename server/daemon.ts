import Fastify, { type FastifyInstance } from 'fastify'
import { mkdir } from 'node:fs/promises'
import { reachableHost, type DaemonConfig } from './config.ts'
import { VERSION } from './version.ts'
import { createShutdown } from './shutdown.ts'
import { openStateDb, section, type StateDb } from './storage/state-db.ts'
import { createStorageNode, stopStorageNode, type StorageNode } from './storage/helia-node.ts'
import { loadOrCreateDeviceIdentity, type DeviceIdentity } from './identity/device-identity.ts'
import { connectFilmToken, defaultConfirmations, type FilmTokenClient } from './chain/film-token.ts'
import { createChainWatcher, type WatcherState } from './chain/watcher.ts'
import { openCustodyStore, type CustodyStore } from './keys/custody-store.ts'
import { keyReleaseRoutes } from './keys/key-release-routes.ts'
import { createPairingStore } from './pairing/pairing-store.ts'
import { createSettingsStore, type SettingsStore } from './settings/settings.ts'
import { pairingRoutes } from './pairing/routes.ts'
import { createOwnerSessions, ownerSession } from './pairing/owner-session.ts'
import { createLibrary, type Library } from './library/library.ts'
import { libraryRoutes } from './library/routes.ts'
import { streamingRoutes } from './streaming/routes.ts'
import { statusRoutes } from './status/routes.ts'
import { uiRoutes } from './ui/routes.ts'
import { openApi } from './openapi/openapi.ts'

export interface Daemon {
  url: string
  db: StateDb
  app: FastifyInstance
  identity: DeviceIdentity
  helia: StorageNode
  chain: FilmTokenClient
  settings: SettingsStore
  /** Present on a custodian: where publish keeps content keys. */
  custody?: CustodyStore
  multiaddrs(): string[]
  close(): Promise<void>
}

const BODY_LIMIT_BYTES = 64 * 1024

/** Starts one seed-one process with the roles its configuration names. */
export async function startDaemon(config: DaemonConfig, opts: { logLevel?: string } = {}): Promise<Daemon> {
  await mkdir(config.dataDir, { recursive: true, mode: 0o700 })
  const db = await openStateDb(config.dataDir)
  const shutdown = createShutdown()
  shutdown.add(() => db.close())
  try {
    const identity = await loadOrCreateDeviceIdentity(config.dataDir)
    const chainInfo = section<number>(db, 'chain')
    const chain = await connectFilmToken(config.chain, await chainInfo.get('chainId'))
    await chainInfo.put('chainId', chain.chainId)
    shutdown.add(() => chain.provider.destroy())

    const helia = await createStorageNode({
      dataDir: config.dataDir,
      privateKey: identity.privateKey,
      listen: config.p2pListen,
      bootstrap: config.peers
    })
    shutdown.add(() => stopStorageNode(helia))

    const app = Fastify({
      logger: {
        level: opts.logLevel ?? process.env.SEED_ONE_LOG_LEVEL ?? 'info',
        redact: ['req.headers.cookie', 'req.headers.authorization']
      },
      bodyLimit: BODY_LIMIT_BYTES,
      forceCloseConnections: true,
      // Schemas are strict: unknown properties and wrongly typed values are refused, not quietly fixed.
      ajv: { customOptions: { removeAdditional: false, coerceTypes: false } }
    })
    shutdown.add(() => app.close())
    await app.register(openApi)

    const multiaddrs = (): string[] => helia.libp2p.getMultiaddrs().map(ma => ma.toString())
    let custody: CustodyStore | undefined
    if (config.roles.includes('custodian')) {
      custody = await openCustodyStore(config.dataDir, db)
      await app.register(keyReleaseRoutes, { chain, helia, custody })
    }

    let library: Library | undefined
    let watcher: ReturnType<typeof createChainWatcher> | undefined
    const pairing = createPairingStore(db)
    const settings = createSettingsStore(db)
    const followOwner = async (owner: string): Promise<void> => {
      library = createLibrary({
        db,
        helia,
        identity,
        chain,
        authorisation: async () => await pairing.authorisation(),
        unpinGraceMs: config.unpinGraceMs,
        offlineKeyGraceMs: config.offlineKeyGraceMs,
        pinStallMs: config.pinStallMs,
        log: app.log.child({ part: 'library' })
      })
      const watcherState = section<WatcherState>(db, 'chain')
      const current = library
      watcher = createChainWatcher({
        provider: chain.provider,
        contractAddress: config.chain.contractAddress,
        owner,
        fromBlock: config.chain.deploymentBlock,
        confirmations: config.chain.confirmations ?? defaultConfirmations(chain.chainId),
        pollMs: config.chainPollMs,
        store: {
          load: async () => await watcherState.get(`watcher:${owner}`),
          save: async state => {
            await watcherState.put(`watcher:${owner}`, state)
          }
        },
        onChange: async change => {
          await current.applyHolding(change)
        },
        onError: err => {
          app.log.warn({ err: (err as Error).message }, 'chain sync failed; retrying')
        }
      })
      await library.resume()
      watcher.start()
    }
    shutdown.add(async () => {
      await watcher?.stop()
      await library?.close()
    })

    if (config.roles.includes('player')) {
      const sessions = createOwnerSessions(db)
      await app.register(ownerSession, { sessions, owner: async () => await pairing.owner() })
      await app.register(pairingRoutes, {
        identity,
        store: pairing,
        sessions,
        chainId: chain.chainId,
        provider: chain.provider,
        onPaired: followOwner
      })
      await app.register(libraryRoutes, { library: () => library })
      await app.register(streamingRoutes, { library: () => library })
      await app.register(uiRoutes)
      const owner = await pairing.owner()
      if (owner !== undefined) await followOwner(owner)
    }

    await app.register(statusRoutes, {
      status: async () => {
        const owner = (await pairing.owner()) ?? null
        return {
          version: VERSION,
          deviceId: identity.deviceId,
          roles: config.roles,
          owner,
          paired: owner !== null,
          chainId: chain.chainId,
          syncedBlock: watcher?.syncedBlock() ?? 0,
          multiaddrs: multiaddrs()
        }
      }
    })

    await app.listen({ host: config.host, port: config.port })
    const address = app.server.address()
    const port = typeof address === 'object' && address !== null ? address.port : config.port
    const url = `http://${reachableHost(config.host)}:${port}`
    return { url, db, app, identity, helia, chain, settings, custody, multiaddrs, close: shutdown.run }
  } catch (err) {
    await shutdown.run()
    throw err
  }
}
