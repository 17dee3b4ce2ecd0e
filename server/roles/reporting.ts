// What every box tells about itself, whatever its other roles: its status, /metrics and signed health
// reports to the monitor, the answers to the monitor's challenges and identity check, and its name on
// the LAN.
import type { FastifyInstance, FastifyRequest } from 'fastify'
import { VERSION } from '../lib/version.ts'
import { peerOrigin } from '../lib/peer-url.ts'
import { isSignedIn } from '../pairing/owner-session.ts'
import { statusRoutes, type DaemonStatus } from '../status/routes.ts'
import { replicationRoutes } from '../replication/routes.ts'
import { identityRoutes } from '../identity/identity-routes.ts'
import { boxHealth } from '../health/box-health.ts'
import { chainSyncLag } from '../health/health-figures.ts'
import { advertiseOnLan } from '../appliance/mdns.ts'
import { withShutdown, type RoleComponents, type RoleHandle } from './role.ts'

/** GET /api/status: the owner's wallet and their library's sync are for the owner's screens only. */
async function status(components: RoleComponents, request: FastifyRequest): Promise<DaemonStatus> {
  const { config, identity, chain, pairing, sessions, following } = components
  const owner = (await pairing.owner()) ?? null
  const signedIn = sessions !== undefined && (await isSignedIn(sessions, request))
  return {
    version: VERSION,
    deviceId: identity.deviceId,
    roles: config.roles,
    owner: signedIn ? owner : null,
    paired: owner !== null,
    chainId: chain.chainId,
    syncedBlock: following.syncedBlock() ?? 0,
    chainSync: signedIn ? following.chainSync() : null,
    multiaddrs: components.multiaddrs()
  }
}

export async function reportingRole(components: RoleComponents, app: FastifyInstance): Promise<RoleHandle> {
  const { config, identity, helia, peerServing, following, chain } = components
  return await withShutdown(async shutdown => {
    // every box: the monitor challenges any box that says it holds content, its own library's too
    await app.register(replicationRoutes, { helia, serving: peerServing })
    // the URL this box reports as its own, once it listens: the monitor checks it answers for this key
    let apiUrl: string | undefined
    await app.register(identityRoutes, { identity, apiUrl: () => apiUrl })
    const { db, settings, counters } = components
    const health = boxHealth(app, {
      config,
      db,
      identity,
      helia,
      settings,
      counters,
      peerServing: () => peerServing.figures(),
      // a failing sync already says the chain does not answer: /metrics must not wait for an RPC that hangs
      chainSyncLag: async () =>
        following.chainSync()?.state === 'failing' ? null : await chainSyncLag(chain.provider, following.syncedBlock()),
      replication: components.replicator?.status,
      heldChanges: components.replicator?.onHeldChange
    })
    shutdown.add(() => health.close())
    await app.register(statusRoutes, { status: async request => await status(components, request) })
    return {
      async listening({ url, host, port }) {
        if (config.mdns) {
          const lan = await advertiseOnLan({
            host,
            port,
            deviceId: identity.deviceId,
            version: VERSION,
            log: app.log.child({ part: 'mdns' })
          })
          if (lan !== undefined) shutdown.add(() => lan.close())
        }
        apiUrl = peerOrigin(config.port === 0 ? url : config.publicUrl)
        await health.startReporting(apiUrl, { host, port })
      }
    }
  })
}
