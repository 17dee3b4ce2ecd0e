// Versioned migrations of the data directory's state database. The data version (0 for a data directory
// older than this framework) is kept in the database itself, and each step writes its changes and the
// new version in one synced batch, so a kill -9 leaves the data at one version or the next, never between.
//
// Each migration either has a `down`, or is declared forward-compatible: a release that knows only the
// versions before it still reads data written after it. The record keeps `readableFrom`, the oldest
// data version a release must know to read the data, so that an older release can tell on its own.
import type { BatchOperation } from 'level'
import { writeBatch, type Section, type StateDb } from '../storage/state-db.ts'

declare module '../storage/state-db.ts' {
  interface StateSchema {
    migrations: { 'data-version': DataVersion }
  }
}

export type MigrationBatch = Array<BatchOperation<StateDb, string, unknown>>

export interface Migration {
  /** The data version this migration brings the data to: 1, 2, 3… in order. */
  version: number
  description: string
  /**
   * Changes that bring the data from version - 1 to `version`, returned rather than written, so that they
   * land together with the version record. It may read `db` first; anything it does outside the
   * database must be safe to repeat.
   */
  up(db: StateDb): Promise<MigrationBatch>
  /** The way back from `version` to version - 1 (for a rollback to an older release). */
  down?(db: StateDb): Promise<MigrationBatch>
  /** Releases that know only version - 1 read data at `version` correctly, so no down is needed. */
  forwardCompatible?: true
}

export interface DataVersion {
  version: number
  /** The lowest data version a release must know to read this data. */
  readableFrom: number
}

export class DataVersionError extends Error {
  override name = 'DataVersionError'
}

const SECTION: Section = 'migrations'
const RECORD_KEY = 'data-version'

/** The highest data version `migrations` knows; throws when the list is not 1, 2, 3… with a way back for each. */
export function knownDataVersion(migrations: readonly Migration[]): number {
  migrations.forEach((migration, i) => {
    if (migration.version !== i + 1) throw new DataVersionError(`migration ${i + 1} is numbered ${migration.version}`)
    if (migration.down === undefined && migration.forwardCompatible !== true) {
      throw new DataVersionError(`migration ${migration.version} (${migration.description}) has no down and is not forward-compatible`)
    }
  })
  return migrations.length
}

/** The oldest data version a release must know to read data at `version`: the last migration up to it that is not forward-compatible. */
function readableFrom(migrations: readonly Migration[], version: number): number {
  return Math.max(0, ...migrations.filter(m => m.version <= version && m.forwardCompatible !== true).map(m => m.version))
}

function records(db: StateDb) {
  return db.sublevel<string, DataVersion>(SECTION, { valueEncoding: 'json' })
}

export async function readDataVersion(db: StateDb): Promise<DataVersion> {
  return (await records(db).get(RECORD_KEY)) ?? { version: 0, readableFrom: 0 }
}

async function commit(db: StateDb, changes: MigrationBatch, record: DataVersion): Promise<void> {
  await writeBatch(db, [...changes, { type: 'put', sublevel: records(db), key: RECORD_KEY, value: record }])
}

export interface MigrationStep {
  from: number
  to: number
  description: string
}

/**
 * What a daemon runs at start: every migration the data has not had yet. Data from a newer release is
 * used as it is when that release declared it readable by this one (its version record is lowered to
 * ours, so the newer release runs its steps again when it returns); otherwise this release refuses it.
 */
export async function migrateToLatest(
  db: StateDb,
  migrations: readonly Migration[],
  onStep: (step: MigrationStep) => void = () => {}
): Promise<DataVersion> {
  const known = knownDataVersion(migrations)
  const stored = await readDataVersion(db)
  if (stored.version > known) {
    if (stored.readableFrom > known) {
      throw new DataVersionError(
        `the data directory is at data version ${stored.version}, which needs a release that knows data version ${stored.readableFrom}; ` +
          `this release knows ${known}. Run the newer release's \`seed-one migrate --to ${known}\`, or install a newer release`
      )
    }
    const record = { version: known, readableFrom: readableFrom(migrations, known) }
    await commit(db, [], record)
    return record
  }
  return await migrateTo(db, migrations, known, onStep)
}

/** Moves the data to data version `target`, up or down, one synced step at a time. */
export async function migrateTo(
  db: StateDb,
  migrations: readonly Migration[],
  target: number,
  onStep: (step: MigrationStep) => void = () => {}
): Promise<DataVersion> {
  const known = knownDataVersion(migrations)
  if (!Number.isInteger(target) || target < 0 || target > known)
    throw new DataVersionError(`data version ${target} is not one this release knows (0 to ${known})`)
  let { version } = await readDataVersion(db)
  if (version > known)
    throw new DataVersionError(
      `the data is at data version ${version}, newer than this release knows (${known}): only a newer release can move it`
    )
  while (version !== target) {
    const up = version < target
    const migration = migrations[up ? version : version - 1] as Migration
    const next = up ? version + 1 : version - 1
    // a forward-compatible step without a down leaves its data in place: older releases read it as it is
    const changes = up ? await migration.up(db) : ((await migration.down?.(db)) ?? [])
    await commit(db, changes, { version: next, readableFrom: readableFrom(migrations, next) })
    onStep({ from: version, to: next, description: migration.description })
    version = next
  }
  return await readDataVersion(db)
}
