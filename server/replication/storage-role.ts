// The storage-node role of a daemon: the catalogue from the chain, the node set from the monitor and
// libp2p, and the replicator that keeps this node's share of the catalogue.
import type { FastifyBaseLogger } from 'fastify'
import type { DaemonConfig } from '../config.ts'
import { defaultConfirmations, type FilmTokenClient } from '../chain/film-token.ts'
import type { SettingsStore } from '../settings/settings.ts'
import type { StorageNode } from '../storage/helia-node.ts'
import { metadataBound } from '../library/film-metadata.ts'
import { section, type StateDb } from '../storage/state-db.ts'
import { createCatalogue, type CatalogueRecord } from './catalogue.ts'
import { createNodeSet, type RegistrySnapshot } from './node-set.ts'
import type { QuietHours } from './quiet-hours.ts'
import { createReplicator, type Replicator } from './replicator.ts'

export interface StorageRoleOptions {
  config: Pick<DaemonConfig, 'chain' | 'chainPollMs' | 'monitorUrl' | 'registryPollMs' | 'replicationFactor' | 'pinStallMs'>
  db: StateDb
  helia: StorageNode
  chain: FilmTokenClient
  settings: SettingsStore
  quietHours: QuietHours
  selfId: string
  log: FastifyBaseLogger
}

export interface StorageRole {
  replicator: Replicator
  close(): Promise<void>
}

export async function startStorageRole(opts: StorageRoleOptions): Promise<StorageRole> {
  const { config, db, helia, log } = opts
  const catalogue = createCatalogue({
    provider: opts.chain.provider,
    contractAddress: config.chain.contractAddress,
    fromBlock: config.chain.deploymentBlock,
    confirmations: config.chain.confirmations ?? defaultConfirmations(opts.chain.chainId),
    store: section<CatalogueRecord>(db, 'catalogue'),
    readMetadata: async (cid, signal) => await helia.content.readBytes(cid, { bound: metadataBound(`${cid}`), signal }),
    pollMs: config.chainPollMs,
    onError: err => log.warn({ err: (err as Error).message }, 'catalogue not in sync yet; retrying')
  })
  const nodes = await createNodeSet({
    monitorUrl: config.monitorUrl,
    pollMs: config.registryPollMs,
    store: section<RegistrySnapshot>(db, 'replication'),
    libp2p: helia.libp2p,
    selfId: opts.selfId,
    log
  })
  const replicator = createReplicator({
    helia,
    db,
    settings: opts.settings,
    catalogue,
    nodes,
    quietHours: opts.quietHours,
    selfId: opts.selfId,
    replicationFactor: config.replicationFactor,
    pollMs: config.registryPollMs,
    pinStallMs: config.pinStallMs,
    log
  })
  catalogue.start()
  replicator.start()
  return {
    replicator,
    async close() {
      await replicator.close()
      await catalogue.close()
    }
  }
}
