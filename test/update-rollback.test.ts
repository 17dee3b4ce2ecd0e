// A release that fails its health check after `seed-one update` switched to it is rolled back on its
// own, and the old version serves again: one whose daemon cannot start, and one that answers with
// another version after its start-up migration moved the data on (the rollback runs that migration's down).
import t from 'tap'
import { readFile } from 'node:fs/promises'
import path from 'node:path'
import { readPending, readPointer, slotDir } from '../server/update/install-root.ts'
import { RELEASE_CLI } from '../server/update/server-build.ts'
import { openStateDb } from '../server/storage/state-db.ts'
import { readDataVersion } from '../server/update/migrations.ts'
import type { Test } from './helpers/in-process.ts'
import { runSeedOne, snapshot, startUpdateWorld } from './helpers/updates.ts'

const world = await startUpdateWorld(t)
const slotA = await snapshot(slotDir(world.root, 'a'))
const checkoutDaemon = await readFile(new URL('../server/daemon.ts', import.meta.url), 'utf8')

async function rolledBack(t: Test): Promise<void> {
  t.equal(await readPointer(world.root, 'current'), 'a', 'current is slot a again')
  t.equal(await readPointer(world.root, 'committed'), 'a')
  t.equal(await readPending(world.root), undefined, 'no update pending')
  t.equal(await world.servingVersion(), '1.0.0', 'the old version serves')
  t.same(await snapshot(slotDir(world.root, 'a')), slotA, 'slot a is byte-identical')
}

t.test('a release whose daemon cannot start is rolled back', async t => {
  const broken = await world.release('1.1.0', {
    // imports still load; the module then throws, so `seed-one start` exits at once
    'server/daemon.ts': `${checkoutDaemon}\nthrow new Error('this release cannot start')\n`
  })
  const run = await world.update(broken.manifestFile)
  t.equal(run.code, 1, 'exit code 1', { output: run.output })
  t.match(run.output, 'installing seed-one 1.1.0 into slot b (slot a keeps 1.0.0)')
  t.match(run.output, /seed-one 1\.1\.0 is not healthy: .*start failed: the daemon did not come up/)
  t.match(run.output, 'this release cannot start', "the daemon's own error is shown")
  t.match(run.output, 'seed-one 1.0.0 serves again')
  t.match(run.output, 'seed-one update: update to 1.1.0 failed and was rolled back; seed-one 1.0.0 serves again')
  await rolledBack(t)
})

t.test('a release answering with another version after migrating the data is rolled back, and its migration undone', async t => {
  const wrong = await world.release('1.2.0', {
    'server/lib/version.ts': "export const VERSION: string = '1.2.0-not-what-was-installed'\n",
    'server/update/migration-list.ts': `
import type { Migration } from './migrations.ts'
const settings = (db: Parameters<Migration['up']>[0]) => db.sublevel('settings', { valueEncoding: 'json' })
export const MIGRATIONS: readonly Migration[] = [
  {
    version: 1,
    description: 'a marker only data version 1 has',
    up: async db => [{ type: 'put', sublevel: settings(db), key: 'update-test-marker', value: true }],
    down: async db => [{ type: 'del', sublevel: settings(db), key: 'update-test-marker' }]
  }
]
`
  })
  const run = await world.update(wrong.manifestFile)
  t.equal(run.code, 1, 'exit code 1', { output: run.output })
  t.match(run.output, 'answers version "1.2.0-not-what-was-installed", not 1.2.0')
  t.match(run.output, "the data is at data version 1, seed-one 1.0.0 reads up to 0: running seed-one 1.2.0's down migrations")
  t.match(run.output, 'data version 1 → 0: a marker only data version 1 has')
  t.match(run.output, 'update to 1.2.0 failed and was rolled back')
  await rolledBack(t)

  await world.service('stop')
  const check = await runSeedOne(['migrate', '--check'], { env: world.env, cli: path.join(world.root, 'current', RELEASE_CLI) })
  t.same(JSON.parse(check.output), { release: 0, data: 0, readableFrom: 0 }, 'the data is back at the version 1.0.0 knows')
  const db = await openStateDb(world.dataDir)
  t.same(await readDataVersion(db), { version: 0, readableFrom: 0 })
  t.equal(await db.sublevel('settings', { valueEncoding: 'json' }).get('update-test-marker'), undefined, "the migration's change is gone")
  await db.close()
  await world.service('start')
  t.equal(await world.servingVersion(), '1.0.0')
})
