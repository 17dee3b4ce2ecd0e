// A storage node's Pinning Service API, assembled: the tokens, the requests, the work behind them and
// their routes; the owner's token routes on the data directory's socket (`seed-one pinning-token`), and
// on HTTP where an owner can sign in, i.e. with the player role.
import type { FastifyBaseLogger, FastifyInstance } from 'fastify'
import type { StorageNode } from '../storage/helia-node.ts'
import type { StateDb } from '../storage/state-db.ts'
import type { SettingsStore } from '../settings/settings.ts'
import type { QuietHours } from '../replication/quiet-hours.ts'
import { replicaList } from '../replication/replica-list.ts'
import { libraryCatalogueCids } from '../replication/library-pins.ts'
import { createPinningTokens } from './tokens.ts'
import { createPinRequests } from './pin-requests.ts'
import { createRemotePins, type RemotePins } from './remote-pins.ts'
import { PINNING_API_PREFIX, pinningRoutes } from './routes.ts'
import { pinningTokenRoutes } from './token-routes.ts'
import { serveTokenSocket } from './token-socket.ts'

export interface PinningServiceOptions {
  /** Where the token socket is made. */
  dataDir: string
  helia: StorageNode
  db: StateDb
  settings: SettingsStore
  quietHours: QuietHours
  /** Bytes of the storage quota the replicas take. */
  replicaBytes(): Promise<number>
  pinStallMs: number
  /** This box's multiaddrs, ending with its peer id. */
  multiaddrs(): string[]
  log: FastifyBaseLogger
}

export async function startPinningService(app: FastifyInstance, opts: PinningServiceOptions): Promise<RemotePins> {
  const tokens = createPinningTokens(opts.db)
  const requests = createPinRequests(opts.db)
  const replicas = replicaList(opts.db)
  const pins = createRemotePins({
    ...opts,
    requests,
    otherBytes: opts.replicaBytes,
    pinnedElsewhere: async cid => (await replicas.get()).has(cid) || (await libraryCatalogueCids(opts.db)).has(cid)
  })
  await app.register(pinningRoutes, { prefix: PINNING_API_PREFIX, tokens, requests, pins, delegates: opts.multiaddrs })
  if (app.hasDecorator('requireOwner'))
    await app.register(pinningTokenRoutes, { tokens, guards: { read: [app.requireSignedIn], write: app.requireOwner } })
  const socket = await serveTokenSocket({ dataDir: opts.dataDir, tokens, log: opts.log }).catch((err: Error) => {
    opts.log.warn({ err: err.message }, '`seed-one pinning-token` cannot reach this box: its socket could not be made')
    return undefined
  })
  // requests queued before a restart, or cut short by it, go on
  for (const request of await requests.all())
    if (request.status === 'pinning') await requests.update(request.requestid, r => void (r.status = 'queued'))
  pins.wake()
  return {
    ...pins,
    async close() {
      await socket?.close()
      await pins.close()
    }
  }
}
