import Fastify, { type FastifyInstance } from 'fastify'
import { mkdir } from 'node:fs/promises'
import { reachableHost, type DaemonConfig } from './config.ts'
import { VERSION } from './version.ts'
import { createShutdown } from './shutdown.ts'
import { RequestLogController, requestLogSerializers } from './request-log.ts'
import { openStateDb, section, type StateDb } from './storage/state-db.ts'
import { createStorageNode, type StorageNode } from './storage/helia-node.ts'
import { loadOrCreateDeviceIdentity, type DeviceIdentity } from './identity/device-identity.ts'
import { connectFilmToken, defaultConfirmations, type FilmTokenClient } from './chain/film-token.ts'
import { createChainWatcher, type WatcherState } from './chain/watcher.ts'
import { createChainSyncStatus, type ChainSyncStatus } from './chain/sync-status.ts'
import { openCustodyStore, type CustodyStore } from './keys/custody-store.ts'
import { keyReleaseRoutes } from './keys/key-release-routes.ts'
import { publishedFilms } from './keys/published-films.ts'
import { DEFAULT_RELEASE_LIMITS } from './keys/release-limits.ts'
import { createRevocationStore, revocationRoutes } from './keys/revocations.ts'
import { createPairingStore } from './pairing/pairing-store.ts'
import { createSettingsStore, type SettingsStore } from './settings/settings.ts'
import { pairingRoutes } from './pairing/routes.ts'
import { settingsRoutes } from './settings/routes.ts'
import { createOwnerSessions, isSignedIn, ownerSession, SIGN_IN_LINK_PATH, type OwnerSessions } from './pairing/owner-session.ts'
import { createHostCheck } from './http/host-check.ts'
import { securityHeaders } from './http/security-headers.ts'
import { revocationRelayRoutes } from './pairing/revocation-routes.ts'
import { createLibrary, type Library } from './library/library.ts'
import { libraryRoutes } from './library/routes.ts'
import { libraryEventsRoute } from './library/events-route.ts'
import { createLibraryChanges } from './library/library-changes.ts'
import { createPlaybackStore } from './library/playback.ts'
import { createNetworkCopies } from './library/network-copies.ts'
import { startHealthHistory } from './health/history.ts'
import { healthHistoryRoutes } from './health/history-routes.ts'
import { streamingRoutes } from './streaming/routes.ts'
import { statusRoutes } from './status/routes.ts'
import { uiRoutes } from './ui/routes.ts'
import { applianceRoutes } from './appliance/routes.ts'
import { createDiskConsent } from './appliance/disk-consent.ts'
import { advertiseOnLan } from './appliance/mdns.ts'
import { openApi } from './openapi/openapi.ts'
import { createServiceCounters } from './health/service-counters.ts'
import { boxHealth } from './health/box-health.ts'
import { chainSyncLag } from './health/health-figures.ts'
import { createPeerServing, type PeerServing } from './replication/peer-serving.ts'
import { startStorageRole } from './replication/storage-role.ts'
import type { Replicator } from './replication/replicator.ts'
import { replicationRoutes } from './replication/routes.ts'
import { identityRoutes } from './identity/identity-routes.ts'
import { peerOrigin } from './peer-url.ts'
import { registryHolders } from './replication/block-holders.ts'
import type { RegistrySnapshot } from './replication/node-set.ts'
import { createFilmStreams } from './streaming/film-streams.ts'
import { countBuffersInHeapLimit } from './streaming/gc-tuning.ts'
import { MIGRATIONS } from './update/migration-list.ts'
import { migrateToLatest, type MigrationStep } from './update/migrations.ts'

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
  /** What the box serves other boxes (quiet hours, upload cap) and has served. */
  peerServing: PeerServing
  /** Present on a storage node. */
  replicator?: Replicator
  /** Present on a player: a one-time link that signs a browser in as the owner (the devnet demo prints it). */
  signInLink?: () => Promise<string>
  multiaddrs(): string[]
  close(): Promise<void>
}

export const BODY_LIMIT_BYTES = 64 * 1024

export interface StartOptions {
  logLevel?: string
  /** Where the log lines go instead of stdout (tests read them). */
  logStream?: { write(line: string): void }
}

/** Starts one seed-one process with the roles its configuration names. */
export async function startDaemon(config: DaemonConfig, opts: StartOptions = {}): Promise<Daemon> {
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
    const chainInfo = section<number>(db, 'chain')
    const chain = await connectFilmToken(config.chain, await chainInfo.get('chainId'))
    await chainInfo.put('chainId', chain.chainId)
    shutdown.add(() => chain.provider.destroy())

    const settings = createSettingsStore(db)
    const peerServing = await createPeerServing(settings)
    shutdown.add(() => peerServing.close())
    const helia = await createStorageNode({
      dataDir: config.dataDir,
      privateKey: identity.privateKey,
      listen: config.p2pListen,
      bootstrap: config.peers,
      mdns: config.mdns,
      bitswapBlockstore: peerServing.bitswapBlockstore,
      blockHolders:
        config.monitorUrl === undefined
          ? undefined
          : registryHolders({
              monitorUrl: config.monitorUrl,
              selfId: identity.deviceId,
              store: section<RegistrySnapshot>(db, 'replication')
            })
    })
    shutdown.add(() => helia.close())

    const app = Fastify({
      logger: {
        level: opts.logLevel ?? process.env.SEED_ONE_LOG_LEVEL ?? 'info',
        redact: ['req.headers.cookie', 'req.headers.authorization'],
        serializers: requestLogSerializers,
        ...(opts.logStream === undefined ? {} : { stream: opts.logStream })
      },
      // request lines name the path only: a query can carry a pairing code
      logController: new RequestLogController(),
      bodyLimit: BODY_LIMIT_BYTES,
      forceCloseConnections: true,
      // Schemas are strict: unknown properties and wrongly typed values are refused, not quietly fixed.
      ajv: { customOptions: { removeAdditional: false, coerceTypes: false } }
    })
    shutdown.add(() => app.close())
    // every body is JSON: a text/plain one (which a cross-site form sends without a preflight) is 415
    app.removeContentTypeParser('text/plain')
    await securityHeaders(app)
    // before every route: a name that is not the box's own (DNS rebinding) reaches none of them
    app.addHook(
      'onRequest',
      await createHostCheck({ deviceId: identity.deviceId, publicUrl: config.publicUrl, allowedHosts: config.allowedHosts ?? [] })
    )
    for (const step of migrated) app.log.info(step, 'data directory migrated')
    const counters = createServiceCounters(app)
    const filmStreams = createFilmStreams()
    peerServing.setActiveStreams(() => filmStreams.count())
    await app.register(openApi)

    const multiaddrs = (): string[] => helia.libp2p.getMultiaddrs().map(ma => ma.toString())
    let custody: CustodyStore | undefined
    if (config.roles.includes('custodian')) {
      custody = await openCustodyStore(config.dataDir, db)
      const revocations = createRevocationStore(db)
      await app.register(keyReleaseRoutes, {
        chain,
        custody,
        published: publishedFilms(db),
        revocations,
        servedCreators: config.servedCreators,
        confirmations: config.chain.confirmations ?? defaultConfirmations(chain.chainId),
        limits: config.keyReleaseLimits ?? DEFAULT_RELEASE_LIMITS
      })
      await app.register(revocationRoutes, { store: revocations, chainId: chain.chainId, provider: chain.provider })
    }

    let library: Library | undefined
    let watcher: ReturnType<typeof createChainWatcher> | undefined
    let chainSync: ChainSyncStatus | undefined
    const pairing = createPairingStore(db)
    const libraryChanges = createLibraryChanges()
    const watcherState = section<WatcherState>(db, 'chain')
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
        dataDir: config.dataDir,
        fetchTimeoutMs: config.playbackFetchTimeoutMs,
        developerMode: async () => (await settings.get()).developerMode,
        streams: filmStreams,
        onChange: libraryChanges.changed,
        log: app.log.child({ part: 'library' })
      })
      const current = library
      const sync = (chainSync = createChainSyncStatus(libraryChanges.changed))
      watcher = createChainWatcher({
        provider: chain.provider,
        contractAddress: config.chain.contractAddress,
        owner,
        fromBlock: config.chain.deploymentBlock,
        confirmations: config.chain.confirmations ?? defaultConfirmations(chain.chainId),
        chainId: chain.chainId,
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
        onSynced: () => sync.synced(),
        onError: err => {
          sync.failed(err)
          counters.errors++
          app.log.warn({ err: (err as Error).message }, 'chain sync failed; retrying')
        }
      })
      await library.resume()
      watcher.start()
    }
    const playback = createPlaybackStore(db)
    // Unpairing: the owner's films, keys and pins go, and a later pairing with them syncs from the start again.
    const stopFollowing = async (owner: string): Promise<void> => {
      await watcher?.close()
      await library?.forget()
      await playback.clear()
      watcher = undefined
      chainSync = undefined
      library = undefined
      await watcherState.del(`watcher:${owner}`)
      // a copy of the data directory taken before cannot use the next owner's authorisation
      await identity.rotateKeyWrappingKey()
    }
    shutdown.add(async () => {
      await watcher?.close()
      await library?.close()
    })

    let sessions: OwnerSessions | undefined
    if (config.roles.includes('player')) {
      sessions = createOwnerSessions(db)
      await app.register(ownerSession, { sessions, owner: async () => await pairing.owner() })
      await app.register(pairingRoutes, {
        identity,
        store: pairing,
        sessions,
        chainId: chain.chainId,
        provider: chain.provider,
        onPaired: followOwner,
        onRenewed: async () => await library?.resume(),
        onUnpaired: stopFollowing
      })
      await app.register(revocationRelayRoutes, {
        chainId: chain.chainId,
        provider: chain.provider,
        owner: async () => await pairing.owner(),
        custodians: async () => [...new Set((await library?.list())?.flatMap(film => film.metadata?.custodian.url ?? []) ?? [])]
      })
      await app.register(settingsRoutes, { settings })
      const networkCopies = createNetworkCopies({
        helia,
        selfId: identity.deviceId,
        monitorUrl: config.monitorUrl,
        log: app.log.child({ part: 'network-copies' })
      })
      shutdown.add(() => networkCopies.close())
      // Plaintext and the owner's library only for the owner's signed-in screens: a guest on the LAN gets 401.
      await app.register(async ownerScreens => {
        ownerScreens.addHook('onRequest', app.requireSignedIn)
        await ownerScreens.register(libraryRoutes, {
          library: () => library,
          chainSync: () => chainSync?.view() ?? null,
          playback,
          networkCopies
        })
        await ownerScreens.register(libraryEventsRoute, { changes: libraryChanges })
        await ownerScreens.register(streamingRoutes, { library: () => library, counters, streams: filmStreams })
      })
      const history = startHealthHistory({ db, dataDir: config.dataDir, log: app.log.child({ part: 'health-history' }) })
      shutdown.add(() => history.close())
      await app.register(healthHistoryRoutes, { history })
      await app.register(uiRoutes)
      await app.register(applianceRoutes, {
        consent: createDiskConsent({ stateFile: config.diskStateFile, dataDir: config.dataDir }),
        sessions,
        paired: async () => (await pairing.owner()) !== undefined
      })
      const owner = await pairing.owner()
      if (owner !== undefined) await followOwner(owner)
    }

    let replicator: Replicator | undefined
    if (config.roles.includes('storage')) {
      const storage = await startStorageRole({
        config,
        db,
        helia,
        chain,
        settings,
        quietHours: peerServing.quietHours,
        selfId: identity.deviceId,
        log: app.log.child({ part: 'replication' })
      })
      shutdown.add(() => storage.close())
      replicator = storage.replicator
    }
    // every box: the monitor challenges any box that says it holds content, its own library's too
    await app.register(replicationRoutes, { helia, serving: peerServing })
    // the URL this box reports as its own, once it listens: the monitor checks it answers for this key
    let apiUrl: string | undefined
    await app.register(identityRoutes, { identity, apiUrl: () => apiUrl })

    const health = boxHealth(app, {
      config,
      db,
      identity,
      helia,
      settings,
      counters,
      peerServing: () => peerServing.figures(),
      // a failing sync already says the chain does not answer: /metrics must not wait for an RPC that hangs
      chainSyncLag: async () => (chainSync?.view().state === 'failing' ? null : await chainSyncLag(chain.provider, watcher?.syncedBlock())),
      replication: replicator?.status
    })
    shutdown.add(() => health.close())

    await app.register(statusRoutes, {
      status: async request => {
        const owner = (await pairing.owner()) ?? null
        // the owner's wallet and their library's sync are for the owner's screens only
        const signedIn = sessions !== undefined && (await isSignedIn(sessions, request))
        return {
          version: VERSION,
          deviceId: identity.deviceId,
          roles: config.roles,
          owner: signedIn ? owner : null,
          paired: owner !== null,
          chainId: chain.chainId,
          syncedBlock: watcher?.syncedBlock() ?? 0,
          chainSync: signedIn ? (chainSync?.view() ?? null) : null,
          multiaddrs: multiaddrs()
        }
      }
    })

    await app.listen({ host: config.host, port: config.port })
    const address = app.server.address()
    const port = typeof address === 'object' && address !== null ? address.port : config.port
    const url = `http://${reachableHost(config.host)}:${port}`
    if (config.mdns) {
      const lan = await advertiseOnLan({
        host: config.host,
        port,
        deviceId: identity.deviceId,
        version: VERSION,
        log: app.log.child({ part: 'mdns' })
      })
      if (lan !== undefined) shutdown.add(() => lan.close())
    }
    apiUrl = peerOrigin(config.port === 0 ? url : config.publicUrl)
    await health.startReporting(apiUrl, { host: config.host, port })
    const ownerSessions = sessions
    const signInLink =
      ownerSessions === undefined ? undefined : async () => `${url}${SIGN_IN_LINK_PATH}?token=${await ownerSessions.issueSignInToken()}`
    return { url, db, app, identity, helia, chain, settings, custody, peerServing, replicator, signInLink, multiaddrs, close: shutdown.run }
  } catch (err) {
    await shutdown.run()
    throw err
  }
}
