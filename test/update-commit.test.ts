// A good release is committed by `seed-one update`, and a kill -9 of the updater between the switch
// and the commit leaves an install that the next start (the recovery step before it) or the next update
// puts back on the committed release.
import t from 'tap'
import { readFile } from 'node:fs/promises'
import path from 'node:path'
import { readPending, readPointer, slotDir } from '../server/update/install-root.ts'
import { RELEASE_CLI } from '../server/update/server-build.ts'
import { killUpdateMidTrial, runSeedOne, serveFolder, snapshot, startUpdateWorld } from './helpers/updates.ts'

const world = await startUpdateWorld(t)
const slotA = await snapshot(slotDir(world.root, 'a'))
const good = await world.release('1.3.0')

/** A power cut: the daemon dies at once, with no chance to tidy anything. */
async function powerCut(): Promise<void> {
  const pid = Number(await readFile(path.join(world.env.TEST_SERVICE_DIR as string, 'daemon.pid'), 'utf8'))
  process.kill(pid, 'SIGKILL')
  await world.service('stop') // waits until it is gone, then forgets it
}

t.test('killed mid-trial, then a power cut: the recovery step before the next start puts the committed release back', async t => {
  const output = await killUpdateMidTrial(world, good.manifestFile)
  t.match(output, 'starting seed-one 1.3.0 from slot b')
  t.notMatch(output, 'committed')
  t.equal(await readPointer(world.root, 'current'), 'b', 'the release on trial is current')
  t.equal(await readPointer(world.root, 'committed'), 'a')
  t.match(await readPending(world.root), { from: 'a', to: 'b', toVersion: '1.3.0' }, 'the trial is marked pending')
  t.equal(await world.servingVersion(), '1.3.0')

  await powerCut()
  // what seed-one.service's ExecStartPre runs, from the committed slot's code
  const recover = await runSeedOne(['update', '--recover', '--no-service'], {
    env: world.env,
    cli: path.join(world.root, 'committed', RELEASE_CLI)
  })
  t.equal(recover.code, 0, 'exit code 0', { output: recover.output })
  t.match(recover.output, /an update to seed-one 1\.3\.0 \(slot b, started .*\) was interrupted/)
  t.match(recover.output, 'rolling back to seed-one 1.0.0 (slot a)')
  t.equal(await readPointer(world.root, 'current'), 'a')
  t.equal(await readPending(world.root), undefined)
  await world.service('start')
  t.equal(await world.servingVersion(), '1.0.0')

  const again = await runSeedOne(['update', '--recover', '--no-service'], { env: world.env })
  t.match(again.output, 'no interrupted update')
})

t.test('killed mid-trial, a rerun of the update rolls the trial back first, then installs and commits', async t => {
  await killUpdateMidTrial(world, good.manifestFile)
  t.equal(await world.servingVersion(), '1.3.0', 'the trial release runs, uncommitted')

  const run = await world.update(good.manifestFile)
  t.equal(run.code, 0, 'exit code 0', { output: run.output })
  t.match(
    run.output,
    /an update to seed-one 1\.3\.0 .* was interrupted\nrolling back to seed-one 1\.0\.0 \(slot a\)\nseed-one 1\.0\.0 serves again\n/
  )
  t.match(run.output, 'installing seed-one 1.3.0 into slot b (slot a keeps 1.0.0)')
  t.match(run.output, 'seed-one 1.3.0 is healthy: committed (slot a keeps 1.0.0)')
  t.equal(await readPointer(world.root, 'current'), 'b')
  t.equal(await readPointer(world.root, 'committed'), 'b')
  t.equal(await readPending(world.root), undefined)
  t.equal(await world.servingVersion(), '1.3.0')
  t.same(await snapshot(slotDir(world.root, 'a')), slotA, 'slot a keeps 1.0.0 byte for byte, for a rollback')
})

t.test('the next update, fetched over HTTP, goes into the other slot and commits', async t => {
  const slotB = await snapshot(slotDir(world.root, 'b'))
  const next = await world.release('1.4.0')
  const releaseServer = await serveFolder(t, path.dirname(next.manifestFile))
  const run = await world.update(`${releaseServer}/${path.basename(next.manifestFile)}`)
  t.equal(run.code, 0, 'exit code 0', { output: run.output })
  t.match(run.output, 'installing seed-one 1.4.0 into slot a (slot b keeps 1.3.0)')
  t.match(run.output, 'seed-one 1.4.0 is healthy: committed (slot b keeps 1.3.0)')
  t.equal(await world.servingVersion(), '1.4.0')
  t.same(await snapshot(slotDir(world.root, 'b')), slotB)

  const status = await runSeedOne(['update', '--status'], { env: world.env })
  t.same(JSON.parse(status.output), { current: 'a', committed: 'a', slots: { a: '1.4.0', b: '1.3.0' } })
})
