import type { BatchOperation, Level } from 'level'
import path from 'node:path'
import { mkdir } from 'node:fs/promises'
import { mendingLevel } from './mending-level.ts'

/** Everything the daemon knows apart from blocks lives in this one `level` database (DESIGN decision 2). */
export type StateDb = Level<string, unknown>

/**
 * The state database's sections (sublevels by capability, so that each part owns its keys): section name ->
 * key (or key pattern) -> value type. It starts empty here and each owner declares its own section, next to
 * the code that reads it, by augmenting this interface:
 *
 *   declare module '../storage/state-db.ts' {
 *     interface StateSchema { settings: { current: DeviceSettings } }
 *   }
 *
 * so storage imports no capability, and a misspelt section or key, or a value of the wrong type, fails to
 * compile. A section is declared once: a second declaration of the same name with other types is an error.
 * The names, keys and JSON values are the on-disk layout: change them only with a migration (RELEASE.md).
 */
export interface StateSchema {}

export type Section = keyof StateSchema & string
/** The keys of `S`: literal names and template patterns such as `film:${string}`. */
export type SectionKey<S extends Section> = keyof StateSchema[S] & string
/** The value `S` keeps under key `K`. */
export type SectionValue<S extends Section, K extends SectionKey<S> = SectionKey<S>> = StateSchema[S][K]
/** One [key, value] pair of `S`, with each key pattern paired with its own value type. */
export type SectionEntry<S extends Section> = { [K in SectionKey<S>]: [K, StateSchema[S][K]] }[SectionKey<S>]

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
export interface Store<S extends Section> {
  get<K extends SectionKey<S>>(key: K): Promise<SectionValue<S, K> | undefined>
  put<K extends SectionKey<S>>(key: K, value: SectionValue<S, K>): Promise<void>
  del(key: SectionKey<S>): Promise<void>
  entries(): Promise<Array<SectionEntry<S>>>
}

export function section<S extends Section>(db: StateDb, name: S): Store<S> {
  const sub = db.sublevel<string, unknown>(name, { valueEncoding: 'json' })
  return {
    get: async <K extends SectionKey<S>>(key: K) => (await sub.get(key)) as SectionValue<S, K> | undefined,
    put: async (key, value) => {
      await writeBatch(db, [{ type: 'put', sublevel: sub, key, value }])
    },
    del: async key => {
      await writeBatch(db, [{ type: 'del', sublevel: sub, key }])
    },
    // the keys on disk are the ones put through this type, so each pair is what the schema says
    entries: async () => (await sub.iterator().all()) as Array<SectionEntry<S>>
  }
}
