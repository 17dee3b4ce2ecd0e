// The production build as a box runs it (issue 14): a release made as `seed-one release` makes one holds
// the server built into server/build and no TypeScript; unpacked into an install root, its cli.js starts
// as a player with Node's type stripping turned off (a .ts module would fail to load) and serves.
import t from 'tap'
import os from 'node:os'
import { mkdtemp, rm } from 'node:fs/promises'
import path from 'node:path'
import { list } from 'tar'
import { slotDir } from '../server/update/install-root.ts'
import { createReleaseKey, loadReleasePrivateKey } from '../server/update/release-key.ts'
import { RELEASE_CLI } from '../server/update/server-build.ts'
import { startDaemonProcess, type DaemonProcess } from './helpers/daemon-process.ts'
import { startTestDevnet } from './helpers/devnet.ts'
import { getJson } from './helpers/http.ts'
import { installRoot, makeTestRelease } from './helpers/updates.ts'

// not t.testdir(): tap deletes that before it runs teardowns, and the daemon must stop first
const dir = await mkdtemp(path.join(os.tmpdir(), 'seed-one-built-test-'))
let daemon: DaemonProcess | undefined
t.teardown(async () => {
  await daemon?.close()
  await rm(dir, { recursive: true, force: true })
})
const keyFile = path.join(dir, 'keys', 'release.key')
await createReleaseKey(keyFile)
const release = await makeTestRelease({ dir, version: '1.0.0', privateKey: await loadReleasePrivateKey(keyFile) })

t.test('the release holds the built server, the built pages and no TypeScript', async t => {
  const entries: string[] = []
  await list({ file: release.tarballFile, onReadEntry: entry => void entries.push(entry.path) })
  t.ok(entries.includes(RELEASE_CLI), `${RELEASE_CLI} is in the release`)
  t.ok(entries.includes('ui/build/box/app.js'), 'the TV pages are in the release')
  t.ok(entries.includes('contracts/build/FilmToken.json'), 'the compiled contract is in the release')
  t.same(
    entries.filter(entry => entry.endsWith('.ts')),
    [],
    'no TypeScript'
  )
})

t.test('the built cli.js starts as a player with type stripping off, and /api/status answers', async t => {
  const devnet = await startTestDevnet(t)
  const root = path.join(dir, 'root')
  await installRoot(root, release)
  daemon = await startDaemonProcess(
    [
      '--data-dir',
      path.join(dir, 'data'),
      '--host',
      '127.0.0.1',
      '--port',
      '0',
      '--rpc-url',
      devnet.rpcUrl,
      '--contract',
      devnet.contractAddress
    ],
    { command: [process.execPath, '--no-experimental-strip-types', path.join(slotDir(root, 'a'), RELEASE_CLI)] }
  )
  const status = await getJson<{ version: string; roles: string[] }>(`${daemon.url}/api/status`)
  t.equal(status.version, '1.0.0', "the release's own version, read from its package.json")
  t.same(status.roles, ['player'], 'a player')
})
