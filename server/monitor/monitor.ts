import { securityHeaders } from '../http/security-headers.ts'
import Fastify, { type FastifyInstance } from 'fastify'
import { mkdir } from 'node:fs/promises'
import cron from 'node-cron'
import type { CID } from 'multiformats/cid'
import { reachableHost } from '../config.ts'
import { createShutdown } from '../shutdown.ts'
import { openStateDb, section } from '../storage/state-db.ts'
import { connectFilmToken, defaultConfirmations } from '../chain/film-token.ts'
import { createCatalogue, type Catalogue, type CatalogueRecord } from '../replication/catalogue.ts'
import { metricsRoute } from '../health/metrics-route.ts'
import type { MonitorConfig } from './monitor-config.ts'
import type { RegistryNode } from './protocol.ts'
import { createNodeStore, type NodeStore } from './node-store.ts'
import { readRegistry } from './registry.ts'
import { readFleet } from './fleet.ts'
import { startChallenger, type Challenger } from './challenger.ts'
import { createMonitorMetrics } from './monitor-metrics.ts'
import { monitorRoutes } from './monitor-routes.ts'
import { dashboardRoutes } from './dashboard-routes.ts'
import { fetchVerifiedBlock, readUnixfsFile } from './block-fetch.ts'
import { MAX_METADATA_BYTES } from '../library/film-metadata.ts'
import { createAdmission } from './admission.ts'
import { createIdentityChecks } from './node-identity.ts'
import { createDiscovery } from './discovery.ts'
import { discoveryRoutes } from './discovery-routes.ts'

export interface Monitor {
  url: string
  app: FastifyInstance
  store: NodeStore
  challenger: Challenger
  /** Prunes the history past the retention and the nodes past the node retention now (the schedule does it every hour): entries removed. */
  prune(): Promise<number>
  close(): Promise<void>
}

/** Reports carry the node's held CIDs: a catalogue of thousands of films fits well within this. */
export const BODY_LIMIT_BYTES = 9 * 1024 * 1024

/** Live nodes' API URLs, those that claim to hold `cid` first: where a block of it is asked for. */
function sources(nodes: RegistryNode[], cid: CID): string[] {
  const key = cid.toString()
  const live = nodes.filter(node => node.live)
  return [...live.filter(node => node.held.includes(key)), ...live.filter(node => !node.held.includes(key))].map(node => node.apiUrl)
}

/**
 * The network's monitor (`seed-one monitor`): receives and checks signed health reports, keeps their
 * history for the retention period, serves the node registry, challenges nodes for proof of holding,
 * and shows the fleet dashboard at '/' and Prometheus metrics at '/metrics'.
 */
export async function startMonitor(config: MonitorConfig, opts: { logLevel?: string } = {}): Promise<Monitor> {
  await mkdir(config.dataDir, { recursive: true, mode: 0o700 })
  const db = await openStateDb(config.dataDir)
  const shutdown = createShutdown()
  shutdown.add(() => db.close())
  try {
    const store = createNodeStore(db)
    const metrics = createMonitorMetrics()
    const app = Fastify({
      logger: { level: opts.logLevel ?? process.env.SEED_ONE_LOG_LEVEL ?? 'info' },
      bodyLimit: BODY_LIMIT_BYTES,
      forceCloseConnections: true,
      ajv: { customOptions: { removeAdditional: false, coerceTypes: false } }
    })
    shutdown.add(() => app.close())
    // every body is JSON: a text/plain one (which a cross-site form sends without a preflight) is 415
    app.removeContentTypeParser('text/plain')
    // No Host check here: the monitor is a public service reached by any name, and holds no cookie or
    // other ambient authority a rebound page could borrow. Its dashboard gets the box's browser headers.
    await securityHeaders(app)
    const admission = await createAdmission(config.admission, app.log.child({ part: 'admission' }))
    const discovery = createDiscovery({ nodeTimeoutMs: config.nodeTimeoutMs, admits: admission.admits })
    const registry = (): Promise<RegistryNode[]> => readRegistry(store, config.nodeTimeoutMs, admission.admits)

    let catalogue: Catalogue | undefined
    if (config.chain !== undefined) {
      const chain = await connectFilmToken(config.chain)
      shutdown.add(() => chain.provider.destroy())
      const log = app.log.child({ part: 'catalogue' })
      catalogue = createCatalogue({
        provider: chain.provider,
        contractAddress: config.chain.contractAddress,
        fromBlock: config.chain.deploymentBlock,
        confirmations: config.chain.confirmations ?? defaultConfirmations(chain.chainId),
        store: section<CatalogueRecord>(db, 'catalogue'),
        readMetadata: async (cid, signal) => {
          const from = sources(await registry(), cid)
          return await readUnixfsFile(
            cid,
            block => fetchVerifiedBlock(block, from, { maxBytes: MAX_METADATA_BYTES, signal }),
            MAX_METADATA_BYTES
          )
        },
        onError: err => log.warn({ err: (err as Error).message }, 'catalogue sync failed; retrying')
      })
      const started = catalogue
      started.start()
      shutdown.add(() => started.close())
    }
    const catalogueCids = async (): Promise<string[]> =>
      catalogue === undefined
        ? []
        : (await catalogue.films()).flatMap(film =>
            film.invalid !== undefined ? [] : [film.metadataCid, ...(film.contentCid !== undefined ? [film.contentCid] : [])]
          )
    const fleet = async (): ReturnType<typeof readFleet> =>
      await readFleet(store, await registry(), {
        nodeTimeoutMs: config.nodeTimeoutMs,
        minReplicas: config.minReplicas,
        catalogue: await catalogueCids()
      })

    const challenger = startChallenger({
      store,
      registry,
      intervalMs: config.challengeIntervalMs,
      blocksPerChallenge: config.challengeBlocks,
      deadlineMs: config.challengeDeadlineMs,
      failuresBeforeFailed: config.failuresBeforeFailed,
      log: app.log.child({ part: 'challenges' }),
      onResult: (_deviceId, passed) => metrics.challenge(passed)
    })
    shutdown.add(() => challenger.close())
    // a node's claims are challenged once its apiUrl answered for it, and again with each report
    const identities = createIdentityChecks({
      store,
      log: app.log.child({ part: 'identity' }),
      onVerified: deviceId => challenger.verifyClaims(deviceId)
    })
    shutdown.add(() => identities.close())
    for (const node of await store.nodes()) challenger.watch(node.deviceId)

    await app.register(monitorRoutes, {
      store,
      registry,
      admits: admission.admits,
      fleet,
      onReport: (result, report, sourceIp) => {
        metrics.report(result)
        if (report === undefined) return
        if (sourceIp !== undefined) discovery.seen(report, sourceIp, new Date())
        challenger.watch(report.deviceId)
        identities.check(report.deviceId)
      }
    })
    metricsRoute(app, { registry: metrics.registry, refresh: async () => metrics.update(await fleet()) })
    await app.register(discoveryRoutes, { discovery })
    await app.register(dashboardRoutes)

    const prune = async (): Promise<number> => {
      const removed = await store.pruneHistory(new Date(Date.now() - config.retentionMs))
      if (removed > 0) app.log.info({ removed }, 'report history past the retention pruned')
      const gone = await store.pruneNodes(new Date(Date.now() - config.nodeRetentionMs))
      if (gone > 0) app.log.info({ gone }, 'nodes silent past the node retention left the registry')
      return removed + gone
    }
    const pruning = cron.schedule(
      config.pruneSchedule,
      async () => {
        await prune().catch(err => app.log.error({ err: (err as Error).message }, 'could not prune the report history'))
      },
      { name: 'monitor-history-prune', noOverlap: true }
    )
    shutdown.add(() => pruning.destroy())

    await app.listen({ host: config.host, port: config.port })
    const address = app.server.address()
    const port = typeof address === 'object' && address !== null ? address.port : config.port
    return { url: `http://${reachableHost(config.host)}:${port}`, app, store, challenger, prune, close: shutdown.run }
  } catch (err) {
    await shutdown.run()
    throw err
  }
}
