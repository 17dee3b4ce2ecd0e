import Fastify, { type FastifyInstance } from 'fastify'
import { assertPortsFree, reachableHost, type DaemonConfig, type Role } from './config.ts'
import { PortInUseError, portInUseMessage, type PortOwner } from './lib/port-check.ts'
import { createShutdown, type Shutdown } from './lib/shutdown.ts'
import { RequestLogController, requestLogSerializers } from './lib/request-log.ts'
import { logStream } from './lib/log-output.ts'
import type { StateDb } from './storage/state-db.ts'
import type { StorageNode } from './storage/helia-node.ts'
import type { DeviceIdentity } from './identity/device-identity.ts'
import type { FilmTokenClient } from './chain/film-token.ts'
import type { CustodyStore } from './keys/custody-store.ts'
import type { SettingsStore } from './settings/settings.ts'
import { SIGN_IN_LINK_PATH } from './pairing/owner-session.ts'
import { answerErrorsByCode } from './http/error-handler.ts'
import { createHostCheck } from './http/host-check.ts'
import { securityHeaders } from './http/security-headers.ts'
import { openApi } from './openapi/openapi.ts'
import { createServiceCounters, type ServiceCounters } from './health/service-counters.ts'
import type { PeerServing } from './replication/peer-serving.ts'
import type { Replicator } from './replication/replicator.ts'
import { createFollowing } from './library/following.ts'
import { createCore, type Components } from './core/core.ts'
import type { Listening, RoleComponents, RoleStart } from './roles/role.ts'
import { custodianRole } from './roles/custodian.ts'
import { playerRole } from './roles/player.ts'
import { storageRole } from './roles/storage.ts'
import { reportingRole } from './roles/reporting.ts'

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
  /** The flag a port in use is blamed on (default --port). */
  portOwner?: PortOwner
}

/**
 * The roles a configuration can name, in the order they start: the custodian's routes come before
 * the owner session the player registers, and the storage node's replicator before the reporting
 * that every box does last (its figures include the replicator's).
 */
const ROLE_ORDER: Array<[Role, RoleStart]> = [
  ['custodian', custodianRole],
  ['player', playerRole],
  ['storage', storageRole]
]

/** The HTTP app: strict JSON, browser headers and the Host check before every route, then the OpenAPI description. */
async function createApp(components: Components, opts: StartOptions): Promise<{ app: FastifyInstance; counters: ServiceCounters }> {
  const { config, identity } = components
  const app = Fastify({
    logger: {
      level: opts.logLevel ?? process.env.SEED_ONE_LOG_LEVEL ?? 'info',
      redact: ['req.headers.cookie', 'req.headers.authorization'],
      serializers: requestLogSerializers,
      // pino-pretty on a terminal, JSON under systemd and to pipes
      stream: logStream(opts.logStream)
    },
    // request lines name the path only: a query can carry a pairing code
    logController: new RequestLogController(),
    bodyLimit: BODY_LIMIT_BYTES,
    forceCloseConnections: true,
    // Schemas are strict: unknown properties and wrongly typed values are refused, not quietly fixed.
    ajv: { customOptions: { removeAdditional: false, coerceTypes: false } }
  })
  answerErrorsByCode(app)
  // every body is JSON: a text/plain one (which a cross-site form sends without a preflight) is 415
  app.removeContentTypeParser('text/plain')
  await securityHeaders(app)
  // before every route: a name that is not the box's own (DNS rebinding) reaches none of them
  app.addHook(
    'onRequest',
    await createHostCheck({ deviceId: identity.deviceId, publicUrl: config.publicUrl, allowedHosts: config.allowedHosts ?? [] })
  )
  for (const step of components.migrated) app.log.info(step, 'data directory migrated')
  const counters = createServiceCounters(app)
  await app.register(openApi)
  return { app, counters }
}

/** Starts the roles the configuration names, then the reporting; returns what waits for the box to listen. */
async function startRoles(
  components: RoleComponents,
  app: FastifyInstance,
  shutdown: Shutdown
): Promise<Array<(at: Listening) => Promise<void>>> {
  const roles = [...ROLE_ORDER.filter(([name]) => components.config.roles.includes(name)).map(([, start]) => start), reportingRole]
  const onListening: Array<(at: Listening) => Promise<void>> = []
  for (const start of roles) {
    const { close, listening, ...products } = await start(components, app)
    shutdown.add(close)
    // what a role made is there for the roles after it
    Object.assign(components, products)
    if (listening !== undefined) onListening.push(listening)
  }
  return onListening
}

/** Starts one seed-one process: the core, the app, the roles its configuration names and the reporting, then listens. */
export async function startDaemon(config: DaemonConfig, opts: StartOptions = {}): Promise<Daemon> {
  const portOwner = opts.portOwner ?? { flag: '--port' }
  // before the core makes anything: a port in use is said at once, and nothing is left half made
  await assertPortsFree(config, portOwner)
  const core = await createCore(config)
  const shutdown = createShutdown()
  shutdown.add(core.close)
  try {
    const { app, counters } = await createApp(core.components, opts)
    shutdown.add(() => app.close())
    const { pairing } = core.components
    const following = createFollowing({
      ...core.components,
      counters,
      authorisation: async () => await pairing.authorisation(),
      developerMode: async () => (await core.components.settings.get()).developerMode,
      log: app.log
    })
    shutdown.add(() => following.close())
    const components: RoleComponents = { ...core.components, counters, following }
    const onListening = await startRoles(components, app, shutdown)

    await app.listen({ host: config.host, port: config.port }).catch((err: NodeJS.ErrnoException) => {
      // taken since the check above
      if (err.code === 'EADDRINUSE') throw new PortInUseError(portInUseMessage(config.host, config.port, portOwner), { cause: err })
      throw err
    })
    const address = app.server.address()
    const port = typeof address === 'object' && address !== null ? address.port : config.port
    const url = `http://${reachableHost(config.host)}:${port}`
    for (const listening of onListening) await listening({ url, host: config.host, port })
    const { db, identity, helia, chain, settings, custody, peerServing, replicator, sessions, multiaddrs } = components
    const signInLink =
      sessions === undefined ? undefined : async () => `${url}${SIGN_IN_LINK_PATH}?token=${await sessions.issueSignInToken()}`
    return { url, db, app, identity, helia, chain, settings, custody, peerServing, replicator, signInLink, multiaddrs, close: shutdown.run }
  } catch (err) {
    await shutdown.run()
    throw err
  }
}
