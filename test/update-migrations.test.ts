// Data directory migrations on a real level database: ups at start, one synced step each; downs for a
// rollback; forward-compatible steps read by older releases; data an older release cannot read refused.
import t from 'tap'
import path from 'node:path'
import { openStateDb, type StateDb } from '../server/storage/state-db.ts'
import {
  DataVersionError,
  knownDataVersion,
  migrateTo,
  migrateToLatest,
  readDataVersion,
  type Migration,
  type MigrationStep
} from '../server/update/migrations.ts'
import { testDir } from './helpers/in-process.ts'
import type { Test } from './helpers/in-process.ts'
import { runSeedOne } from './helpers/updates.ts'

type Film = { title?: string; name?: string }
const films = (db: StateDb) => db.sublevel<string, Film>('films', { valueEncoding: 'json' })
const settings = (db: StateDb) => db.sublevel<string, unknown>('settings', { valueEncoding: 'json' })

/** Not forward-compatible: a release that knows only version 0 looks for `title` and would find none. */
const renameTitle: Migration = {
  version: 1,
  description: 'films: title becomes name',
  up: async db =>
    (await films(db).iterator().all()).map(([key, { title, ...film }]) => ({
      type: 'put',
      sublevel: films(db),
      key,
      value: { ...film, name: title }
    })),
  down: async db =>
    (await films(db).iterator().all()).map(([key, { name, ...film }]) => ({
      type: 'put',
      sublevel: films(db),
      key,
      value: { ...film, title: name }
    }))
}

/** Forward-compatible: older releases ignore the new key, and running it again is harmless. */
const addCreated: Migration = {
  version: 2,
  description: 'settings: when the data directory was made',
  forwardCompatible: true,
  up: async db =>
    (await settings(db).get('created')) === undefined ? [{ type: 'put', sublevel: settings(db), key: 'created', value: 'long ago' }] : []
}

async function freshDb(t: Test, name: string): Promise<StateDb> {
  const db = await openStateDb(testDir(t, name))
  t.teardown(() => db.close())
  await films(db).batch([
    { type: 'put', key: '1', value: { title: 'One' } },
    { type: 'put', key: '2', value: { title: 'Two' } }
  ])
  return db
}

const filmList = async (db: StateDb): Promise<Film[]> => (await films(db).values().all()) as Film[]

t.test('a data directory from before the framework is at data version 0; a start runs every migration, in order', async t => {
  const dir = testDir(t, 'data')
  let db = await openStateDb(dir)
  await films(db).put('1', { title: 'One' })
  t.same(await readDataVersion(db), { version: 0, readableFrom: 0 })
  const steps: MigrationStep[] = []
  t.same(await migrateToLatest(db, [renameTitle, addCreated], step => steps.push(step)), { version: 2, readableFrom: 1 })
  t.same(steps, [
    { from: 0, to: 1, description: 'films: title becomes name' },
    { from: 1, to: 2, description: 'settings: when the data directory was made' }
  ])
  t.same(await filmList(db), [{ name: 'One' }])
  await db.close()

  db = await openStateDb(dir)
  t.same(await readDataVersion(db), { version: 2, readableFrom: 1 }, 'the version survives a restart')
  t.same(await migrateToLatest(db, [renameTitle, addCreated], () => t.fail('nothing left to run')), { version: 2, readableFrom: 1 })
  await db.close()
})

t.test('a migration that fails leaves the data at the version before it', async t => {
  const db = await freshDb(t, 'failing')
  const failing: Migration = {
    version: 2,
    description: 'fails after reading',
    forwardCompatible: true,
    up: async db => {
      await films(db).get('1')
      throw new Error('disk on fire')
    }
  }
  await t.rejects(migrateToLatest(db, [renameTitle, failing]), { message: 'disk on fire' })
  t.same(await readDataVersion(db), { version: 1, readableFrom: 1 })
  t.same(await filmList(db), [{ name: 'One' }, { name: 'Two' }], 'the step before it is complete')
})

t.test('an older release runs on data a newer one left forward-compatible, and the newer one redoes its step on return', async t => {
  const db = await freshDb(t, 'forward')
  await migrateToLatest(db, [renameTitle, addCreated])
  t.same(await migrateToLatest(db, [renameTitle]), { version: 1, readableFrom: 1 }, 'the older release lowers the version it saw')
  const steps: MigrationStep[] = []
  t.same(await migrateToLatest(db, [renameTitle, addCreated], step => steps.push(step)), { version: 2, readableFrom: 1 })
  t.same(
    steps.map(step => step.to),
    [2]
  )
  t.equal(await settings(db).get('created'), 'long ago')
})

t.test('an older release refuses data it cannot read, until the newer release moves it down', async t => {
  const db = await freshDb(t, 'down')
  await migrateToLatest(db, [renameTitle, addCreated])
  await t.rejects(migrateToLatest(db, []), {
    name: 'DataVersionError',
    message:
      "the data directory is at data version 2, which needs a release that knows data version 1; this release knows 0. Run the newer release's `seed-one migrate --to 0`, or install a newer release"
  })
  t.same(await readDataVersion(db), { version: 2, readableFrom: 1 }, 'refusing changed nothing')

  const steps: MigrationStep[] = []
  t.same(await migrateTo(db, [renameTitle, addCreated], 0, step => steps.push(step)), { version: 0, readableFrom: 0 })
  t.same(
    steps.map(step => [step.from, step.to]),
    [
      [2, 1],
      [1, 0]
    ]
  )
  t.same(await filmList(db), [{ title: 'One' }, { title: 'Two' }], 'the down undid the rename')
  t.equal(await settings(db).get('created'), 'long ago', 'a forward-compatible step without a down leaves its data')
  t.same(await migrateToLatest(db, []), { version: 0, readableFrom: 0 }, 'the older release starts')
})

t.test('migrate --to stays within the versions this release knows', async t => {
  const db = await freshDb(t, 'bounds')
  await t.rejects(migrateTo(db, [renameTitle], 2), { message: 'data version 2 is not one this release knows (0 to 1)' })
  await migrateToLatest(db, [renameTitle, addCreated])
  await t.rejects(migrateTo(db, [renameTitle], 0), {
    message: 'the data is at data version 2, newer than this release knows (1): only a newer release can move it'
  })
})

t.test('a list out of order, or a step with no way back, is refused', async t => {
  t.throws(() => knownDataVersion([addCreated]), new DataVersionError('migration 1 is numbered 2'))
  const oneWay: Migration = { version: 1, description: 'one way', up: async () => [] }
  t.throws(() => knownDataVersion([oneWay]), { message: 'migration 1 (one way) has no down and is not forward-compatible' })
  t.equal(knownDataVersion([renameTitle, addCreated]), 2)
})

t.test('seed-one migrate on a data directory', async t => {
  const dataDir = path.join(testDir(t, 'cli'), 'data')
  const migrate = await runSeedOne(['migrate', '--data-dir', dataDir])
  t.equal(migrate.code, 0, 'exit code 0', { output: migrate.output })
  t.match(migrate.output, `${dataDir} is at data version 0`)
  const check = await runSeedOne(['migrate', '--check', '--data-dir', dataDir])
  t.same(JSON.parse(check.output), { release: 0, data: 0, readableFrom: 0 })
  const unknown = await runSeedOne(['migrate', '--to', '3', '--data-dir', dataDir])
  t.equal(unknown.code, 1)
  t.match(unknown.output, 'seed-one migrate: data version 3 is not one this release knows (0 to 0)')
})
