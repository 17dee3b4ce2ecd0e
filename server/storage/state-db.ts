import type { BatchOperation, Level } from 'level'
import path from 'node:path'
import { mkdir } from 'node:fs/promises'
import { mendingLevel } from './mending-level.ts'

/** Everything the daemon knows apart from blocks lives in this one `level` database (DESIGN decision 2). */
export type StateDb = Level<string, unknown>

/** Sublevels by capability, so that each part owns its keys. */
export type Section =
  | 'device'
  | 'pairing'
  | 'sessions'
  | 'settings'
  | 'chain'
  | 'films'
  | 'film-keys'
  | 'custody'
  | 'revocations'
  | 'published'
  | 'publishing'
  | 'playback'
  | 'health'
  | 'catalogue'
  | 'replication'
  | 'reports'
  | 'migrations'

export class StateDbError extends Error {
  override name = 'StateDbError'
}

export async function openStateDb(dataDir: string): Promise<StateDb> {
  const location = path.join(dataDir, 'state')
  await mkdir(location, { recursive: true, mode: 0o700 })
  const db = mendingLevel<string, unknown>(location, { valueEncoding: 'json' })
  try {
    await db.open()
  } catch (err) {
    const cause = (err as { cause?: { code?: string } }).cause
    if (cause?.code === 'LEVEL_LOCKED') {
      throw new StateDbError(`${location} is in use by another seed-one process; stop it first`, { cause: err })
    }
    throw err
  }
  return db
}

/** Commits `operations` at once and durably: synced, so acknowledged writes survive a power cut, not only a kill -9 (DESIGN decision 2). */
export async function writeBatch(db: StateDb, operations: Array<BatchOperation<StateDb, string, unknown>>): Promise<void> {
  await db.batch(operations, { sync: true })
}

/** A typed view of one section of the state database. */
export interface Store<T> {
  get(key: string): Promise<T | undefined>
  put(key: string, value: T): Promise<void>
  del(key: string): Promise<void>
  entries(): Promise<Array<[string, T]>>
}

export function section<T>(db: StateDb, name: Section): Store<T> {
  const sub = db.sublevel<string, T>(name, { valueEncoding: 'json' })
  return {
    get: async key => await sub.get(key),
    put: async (key, value) => {
      await writeBatch(db, [{ type: 'put', sublevel: sub, key, value }])
    },
    del: async key => {
      await writeBatch(db, [{ type: 'del', sublevel: sub, key }])
    },
    entries: async () => await sub.iterator().all()
  }
}
