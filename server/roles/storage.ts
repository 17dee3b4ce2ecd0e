// The storage-node role: the catalogue from the chain, the node set from the monitor and libp2p, and
// the replicator that keeps this node's share of the catalogue within its quota and quiet hours, and
// the IPFS Pinning Service API, whose pins share that quota and those quiet hours.
import type { FastifyInstance } from 'fastify'
import { section } from '../storage/state-db.ts'
import { metadataBound } from '../library/film-metadata.ts'
import { chainCatalogueOptions, createCatalogue } from '../replication/catalogue.ts'
import { createNodeSet } from '../replication/node-set.ts'
import { createReplicator } from '../replication/replicator.ts'
import { startPinningService } from '../pinning/pinning-service.ts'
import type { RemotePins } from '../pinning/remote-pins.ts'
import { withShutdown, type RoleComponents, type RoleHandle } from './role.ts'
import { catalogueWarnings } from '../replication/catalogue-warnings.ts'

export async function storageRole(components: RoleComponents, app: FastifyInstance): Promise<RoleHandle> {
  const { config, db, helia, chain, identity } = components
  const log = app.log.child({ part: 'replication' })
  return await withShutdown(async shutdown => {
    const catalogue = createCatalogue({
      ...chainCatalogueOptions(chain, config.chain, db),
      readMetadata: async (cid, signal) => await helia.content.readBytes(cid, { bound: metadataBound(`${cid}`), signal }),
      readFileSize: async (cid, signal) => await helia.content.fileSize(cid, signal),
      pollMs: config.chainPollMs,
      onError: catalogueWarnings(log, 'catalogue not in sync yet; retrying')
    })
    const nodes = await createNodeSet({
      monitorUrl: config.monitorUrl,
      pollMs: config.registryPollMs,
      store: section(db, 'replication'),
      libp2p: helia.libp2p,
      selfId: identity.deviceId,
      log
    })
    // made after the replicator, whose figures it needs; the replicator counts its pins from then on
    let remotePins: RemotePins | undefined
    const replicator = createReplicator({
      helia,
      db,
      settings: components.settings,
      catalogue,
      nodes,
      quietHours: components.peerServing.quietHours,
      selfId: identity.deviceId,
      replicationFactor: config.replicationFactor,
      minReplicas: config.minReplicas,
      pollMs: config.registryPollMs,
      pinStallMs: config.pinStallMs,
      otherPins: {
        bytes: async () => (await remotePins?.heldBytes()) ?? 0,
        holds: async cid => (await remotePins?.holds(cid)) ?? false
      },
      log
    })
    shutdown.add(async () => {
      await replicator.close()
      await catalogue.close()
    })
    remotePins = await startPinningService(app, {
      dataDir: config.dataDir,
      helia,
      db,
      settings: components.settings,
      quietHours: components.peerServing.quietHours,
      replicaBytes: async () => (await replicator.status()).replicaBytes,
      pinStallMs: config.pinStallMs,
      multiaddrs: components.multiaddrs,
      log: app.log.child({ part: 'pinning' })
    })
    shutdown.add(async () => await remotePins?.close())
    catalogue.start()
    replicator.start()
    return { replicator }
  })
}
