// The player role: pairs with its owner's wallet, follows the chain for the owner's films, and serves
// the TV UI, the owner's library and the decrypted streams to the owner's signed-in screens.
import type { FastifyInstance } from 'fastify'
import { createOwnerSessions, ownerSession, type OwnerSessions } from '../pairing/owner-session.ts'
import { pairingRoutes } from '../pairing/routes.ts'
import { revocationRelayRoutes } from '../pairing/revocation-routes.ts'
import { settingsRoutes } from '../settings/routes.ts'
import { libraryRoutes } from '../library/routes.ts'
import { libraryEventsRoute } from '../library/events-route.ts'
import { createNetworkCopies, type NetworkCopies } from '../library/network-copies.ts'
import { streamingRoutes } from '../streaming/routes.ts'
import { startHealthHistory } from '../health/history.ts'
import { healthHistoryRoutes } from '../health/history-routes.ts'
import { uiRoutes } from '../ui/routes.ts'
import { applianceRoutes } from '../appliance/routes.ts'
import { createDiskConsent } from '../appliance/disk-consent.ts'
import { withShutdown, type RoleComponents, type RoleHandle } from './role.ts'

/** Pairing, renewal and unpairing start, resume and end following the owner. */
async function pairing(components: RoleComponents, app: FastifyInstance, sessions: OwnerSessions): Promise<void> {
  const { identity, chain, pairing: store, following } = components
  await app.register(ownerSession, { sessions, owner: async () => await store.owner() })
  await app.register(pairingRoutes, {
    identity,
    store,
    sessions,
    chainId: chain.chainId,
    provider: chain.provider,
    onPaired: following.follow,
    onRenewed: async () => await following.library()?.resume(),
    onUnpaired: following.unfollow
  })
  await app.register(revocationRelayRoutes, {
    chainId: chain.chainId,
    provider: chain.provider,
    owner: async () => await store.owner(),
    custodians: async () => [...new Set((await following.library()?.list())?.flatMap(film => film.metadata?.custodian.url ?? []) ?? [])]
  })
}

/** Plaintext and the owner's library only for the owner's signed-in screens: a guest on the LAN gets 401. */
async function ownerScreens(components: RoleComponents, app: FastifyInstance, networkCopies: NetworkCopies): Promise<void> {
  const { following, counters, filmStreams } = components
  await app.register(async screens => {
    screens.addHook('onRequest', app.requireSignedIn)
    await screens.register(libraryRoutes, { following, networkCopies })
    await screens.register(libraryEventsRoute, { changes: following.changes })
    await screens.register(streamingRoutes, { following, counters, streams: filmStreams })
  })
}

export async function playerRole(components: RoleComponents, app: FastifyInstance): Promise<RoleHandle> {
  const { config, db, helia, identity, settings, pairing: store } = components
  return await withShutdown(async shutdown => {
    const sessions = createOwnerSessions(db)
    await pairing(components, app, sessions)
    await app.register(settingsRoutes, { settings })
    const networkCopies = createNetworkCopies({
      helia,
      selfId: identity.deviceId,
      monitorUrl: config.monitorUrl,
      log: app.log.child({ part: 'network-copies' })
    })
    shutdown.add(() => networkCopies.close())
    await ownerScreens(components, app, networkCopies)
    const history = startHealthHistory({ db, dataDir: config.dataDir, log: app.log.child({ part: 'health-history' }) })
    shutdown.add(() => history.close())
    await app.register(healthHistoryRoutes, { history })
    await app.register(uiRoutes)
    await app.register(applianceRoutes, {
      consent: createDiskConsent({ stateFile: config.diskStateFile, dataDir: config.dataDir }),
      sessions,
      paired: async () => (await store.owner()) !== undefined
    })
    const owner = await store.owner()
    if (owner !== undefined) await components.following.follow(owner)
    return { sessions }
  })
}
