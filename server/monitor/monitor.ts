import { answerErrorsByCode } from '../http/error-handler.ts'
import { securityHeaders } from '../http/security-headers.ts'
import { logStream } from '../lib/log-output.ts'
import { RequestLogController } from '../lib/request-log.ts'
import Fastify, { type FastifyInstance } from 'fastify'
import { mkdir } from 'node:fs/promises'
import cron from 'node-cron'
import type { CID } from 'multiformats/cid'
import { reachableHost } from '../config.ts'
import { createShutdown, type Shutdown } from '../lib/shutdown.ts'
import { openStateDb, type StateDb } from '../storage/state-db.ts'
import { connectFilmToken } from '../chain/film-token.ts'
import { chainCatalogueOptions, createCatalogue, type Catalogue } from '../replication/catalogue.ts'
import { metricsRoute } from '../health/metrics-route.ts'
import type { MonitorConfig } from './monitor-config.ts'
import type { RegistryNode } from '../wire/monitor-protocol.ts'
import { createNodeStore, type NodeStore } from './node-store.ts'
import { readRegistry } from './registry.ts'
import { createRegistryAnswers } from './registry-answer.ts'
import { readFleet } from './fleet.ts'
import { startChallenger, type Challenger } from './challenger.ts'
import { createMonitorMetrics, type MonitorMetrics } from './monitor-metrics.ts'
import { monitorRoutes } from './monitor-routes.ts'
import { dashboardRoutes } from './dashboard-routes.ts'
import { fetchVerifiedBlock, readUnixfsFile } from './block-fetch.ts'
import { MAX_METADATA_BYTES } from '../library/film-metadata.ts'
import { createAdmission } from './admission.ts'
import { createIdentityChecks, type IdentityChecks } from './node-identity.ts'
import { createDiscovery } from './discovery.ts'
import { discoveryRoutes } from './discovery-routes.ts'
import { catalogueWarnings } from '../replication/catalogue-warnings.ts'

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

/** Where the monitor logs: the level, and a stream for JSON lines (the tests read them) instead of stdout. */
export interface MonitorLogOptions {
  logLevel?: string
  logStream?: { write(line: string): void }
}

/** The monitor's Fastify app: JSON bodies up to BODY_LIMIT_BYTES, strict schemas, browser headers. */
async function createMonitorApp(opts: MonitorLogOptions, shutdown: Shutdown): Promise<FastifyInstance> {
  const app = Fastify({
    logger: { level: opts.logLevel ?? process.env.SEED_ONE_LOG_LEVEL ?? 'info', stream: logStream(opts.logStream) },
    // client errors (a 404 for a node it does not know) without a stack trace
    logController: new RequestLogController(),
    bodyLimit: BODY_LIMIT_BYTES,
    forceCloseConnections: true,
    ajv: { customOptions: { removeAdditional: false, coerceTypes: false } }
  })
  shutdown.add(() => app.close())
  answerErrorsByCode(app)
  // every body is JSON: a text/plain one (which a cross-site form sends without a preflight) is 415
  app.removeContentTypeParser('text/plain')
  // No Host check here: the monitor is a public service reached by any name, and holds no cookie or
  // other ambient authority a rebound page could borrow. Its dashboard gets the box's browser headers.
  await securityHeaders(app)
  return app
}

/** The catalogue of films from the chain (when the monitor follows one), their metadata read from the live nodes. */
async function startCatalogue(
  config: MonitorConfig,
  db: StateDb,
  registry: () => Promise<RegistryNode[]>,
  app: FastifyInstance,
  shutdown: Shutdown
): Promise<Catalogue | undefined> {
  if (config.chain === undefined) return undefined
  const chain = await connectFilmToken(config.chain)
  shutdown.add(() => chain.provider.destroy())
  const log = app.log.child({ part: 'catalogue' })
  const catalogue = createCatalogue({
    ...chainCatalogueOptions(chain, config.chain, db),
    readMetadata: async (cid, signal) => {
      const from = sources(await registry(), cid)
      return await readUnixfsFile(
        cid,
        block => fetchVerifiedBlock(block, from, { maxBytes: MAX_METADATA_BYTES, signal }),
        MAX_METADATA_BYTES
      )
    },
    onError: catalogueWarnings(log, 'catalogue sync failed; retrying')
  })
  catalogue.start()
  shutdown.add(() => catalogue.close())
  return catalogue
}

/** Prunes the history past the retention and the nodes past the node retention: entries removed. */
async function prune(store: NodeStore, config: MonitorConfig, app: FastifyInstance): Promise<number> {
  const removed = await store.pruneHistory(new Date(Date.now() - config.retentionMs))
  if (removed > 0) app.log.info({ removed }, 'report history past the retention pruned')
  const gone = await store.pruneNodes(new Date(Date.now() - config.nodeRetentionMs))
  if (gone > 0) app.log.info({ gone }, 'nodes silent past the node retention left the registry')
  return removed + gone
}

/** The challenges of nodes' claims to hold content, and the checks that a node's apiUrl answers for it. */
async function startClaimChecks(
  config: MonitorConfig,
  store: NodeStore,
  registry: () => Promise<RegistryNode[]>,
  app: FastifyInstance,
  shutdown: Shutdown,
  metrics: MonitorMetrics
): Promise<{ challenger: Challenger; identities: IdentityChecks }> {
  const challenger = startChallenger({
    store,
    registry,
    intervalMs: config.challengeIntervalMs,
    blocksPerChallenge: config.challengeBlocks,
    proof: {
      deadlineMs: config.challengeDeadlineMs,
      msPerBlock: config.challengeMsPerBlock,
      checks: config.challengeChecks,
      ...(config.challengeV1Until !== undefined ? { v1Until: config.challengeV1Until } : {})
    },
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
  return { challenger, identities }
}

/**
 * The network's monitor (`seed-one monitor`): receives and checks signed health reports, keeps their
 * history for the retention period, serves the node registry, challenges nodes for proof of holding,
 * and shows the fleet dashboard at '/' and Prometheus metrics at '/metrics'.
 */
export async function startMonitor(config: MonitorConfig, opts: MonitorLogOptions = {}): Promise<Monitor> {
  await mkdir(config.dataDir, { recursive: true, mode: 0o700 })
  const db = await openStateDb(config.dataDir)
  const shutdown = createShutdown()
  shutdown.add(() => db.close())
  try {
    const store = createNodeStore(db)
    const metrics = createMonitorMetrics()
    const app = await createMonitorApp(opts, shutdown)
    const admission = await createAdmission(config.admission, app.log.child({ part: 'admission' }))
    const discovery = createDiscovery({ nodeTimeoutMs: config.nodeTimeoutMs, admits: admission.admits })
    const registry = (): Promise<RegistryNode[]> => readRegistry(store, config.nodeTimeoutMs, admission.admits)
    const catalogue = await startCatalogue(config, db, registry, app, shutdown)
    const fleet = async (): ReturnType<typeof readFleet> =>
      await readFleet(store, await registry(), {
        nodeTimeoutMs: config.nodeTimeoutMs,
        minReplicas: config.minReplicas,
        catalogue: (await catalogue?.films()) ?? [],
        retired: await catalogue?.retiredCids()
      })
    const { challenger, identities } = await startClaimChecks(config, store, registry, app, shutdown, metrics)

    await app.register(monitorRoutes, {
      store,
      registryAnswer: createRegistryAnswers(registry),
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

    const pruning = cron.schedule(
      config.pruneSchedule,
      async () => {
        await prune(store, config, app).catch(err => app.log.error({ err: (err as Error).message }, 'could not prune the report history'))
      },
      { name: 'monitor-history-prune', noOverlap: true }
    )
    shutdown.add(() => pruning.destroy())

    await app.listen({ host: config.host, port: config.port })
    const address = app.server.address()
    const port = typeof address === 'object' && address !== null ? address.port : config.port
    return {
      url: `http://${reachableHost(config.host)}:${port}`,
      app,
      store,
      challenger,
      prune: () => prune(store, config, app),
      close: shutdown.run
    }
  } catch (err) {
    await shutdown.run()
    throw err
  }
}
