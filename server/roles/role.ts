import type { FastifyInstance } from 'fastify'
import type { Components } from '../core/core.ts'
import { createShutdown, type Shutdown } from '../lib/shutdown.ts'
import type { ServiceCounters } from '../health/service-counters.ts'
import type { Following } from '../library/following.ts'
import type { OwnerSessions } from '../pairing/owner-session.ts'
import type { CustodyStore } from '../keys/custody-store.ts'
import type { Replicator } from '../replication/replicator.ts'

/** What a role may make for the roles after it (and the daemon's callers). */
export interface RoleProducts {
  /** The custodian's: where publish keeps content keys. */
  custody?: CustodyStore
  /** The player's: the owner's sign-in sessions. */
  sessions?: OwnerSessions
  /** The storage node's: the replicator keeping its share of the catalogue. */
  replicator?: Replicator
}

/** What the roles are given: the core's components, what the daemon made with the app, and the products of the roles before. */
export interface RoleComponents extends Components, RoleProducts {
  /** What the service counts about itself (5xx answers, streams served, chain sync failures). */
  counters: ServiceCounters
  /** The owner this box follows: the player's pairing starts and ends it. */
  following: Following
}

/** Where the box listens, once it does. */
export interface Listening {
  url: string
  host: string
  port: number
}

export interface RoleHandle extends RoleProducts {
  close(): Promise<void>
  /** Work that needs the box to listen first (reports name its URL). */
  listening?(at: Listening): Promise<void>
}

/** A role registers its routes on `app` and starts its work; routes cannot be added once the box listens. */
export type RoleStart = (components: RoleComponents, app: FastifyInstance) => Promise<RoleHandle>

/** Starts a role with a shutdown of its own: on a failure, what it opened is closed again before the error goes on. */
export async function withShutdown(start: (shutdown: Shutdown) => Promise<Omit<RoleHandle, 'close'>>): Promise<RoleHandle> {
  const shutdown = createShutdown()
  try {
    return { ...(await start(shutdown)), close: shutdown.run }
  } catch (err) {
    await shutdown.run()
    throw err
  }
}
