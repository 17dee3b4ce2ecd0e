import { Level, type BatchOperation } from 'level'
import path from 'node:path'
import { mkdir } from 'node:fs/promises'
import { DiskSpaceError, freeBytes } from './disk-space.ts'

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
  const db = new Level<string, unknown>(location, { valueEncoding: 'json' })
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

/** The state database takes no writes until the disk has room again (see writeBatch). */
export class StateDbFullError extends DiskSpaceError {
  override name = 'StateDbFullError'
  constructor(location: string, options?: ErrorOptions) {
    super(
      `the disk is full: the box's own records (${location}) take no changes until ${ROOM_TO_MEND_BYTES / MiB} MiB are free again`,
      options
    )
  }
}

const MiB = 1024 * 1024
/** Room for LevelDB to write its in-memory table out (4 MiB at most) and a new log. */
const ROOM_TO_MEND_BYTES = 16 * MiB

/** Databases whose log a failed write tore, with that failure. */
const tornLogs = new WeakMap<StateDb, Error>()

/**
 * Commits `operations` at once and durably: synced, so acknowledged writes survive a power cut, not
 * only a kill -9 (DESIGN decision 2). A write that fails for want of space (an IO error) leaves
 * LevelDB's log ending in a torn record: the writes after it are acknowledged, then lost at the next
 * open (measured with level 10 on a full tmpfs). So after such a failure writes are refused until
 * there is room, and then the in-memory table is compacted first, which starts a new log.
 */
export async function writeBatch(db: StateDb, operations: Array<BatchOperation<StateDb, string, unknown>>): Promise<void> {
  const torn = tornLogs.get(db)
  if (torn !== undefined) await mendLog(db, torn)
  try {
    await db.batch(operations, { sync: true })
  } catch (err) {
    if ((err as { code?: string }).code !== 'LEVEL_IO_ERROR') throw err
    tornLogs.set(db, err as Error)
    throw /no space left/i.test((err as Error).message) ? new StateDbFullError(db.location, { cause: err }) : err
  }
}

async function mendLog(db: StateDb, cause: Error): Promise<void> {
  if ((await freeBytes(db.location)) < ROOM_TO_MEND_BYTES) throw new StateDbFullError(db.location, { cause })
  // classic-level's: compacting the in-memory table switches to a new log (the `level` types leave it out)
  await (db as unknown as { compactRange(start: string, end: string): Promise<void> }).compactRange('\u0000', '\uffff')
  tornLogs.delete(db)
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
