// scripts/install.sh into a temporary root: twice (the second run changes nothing), then --uninstall.
// Under --root nothing is started; the units are enabled offline with `systemctl --root`.
import t from 'tap'
import { execFile } from 'node:child_process'
import { createHash } from 'node:crypto'
import { appendFile, lstat, readFile, readdir, readlink, stat } from 'node:fs/promises'
import path from 'node:path'
import { fileURLToPath } from 'node:url'
import { promisify } from 'node:util'
import { RELEASE_CLI } from '../server/update/server-build.ts'

const run = promisify(execFile)
const INSTALL = fileURLToPath(new URL('../scripts/install.sh', import.meta.url))
const root = t.testdir()
const chain = ['--rpc-url', 'http://127.0.0.1:8545', '--contract', '0x5FbDB2315678afecb367f032d93F642f64180aa3', '--deployment-block', '1']

/** Every file and symlink under the root with its mode and content hash (symlinks: their target). */
async function snapshot(dir: string, into = new Map<string, string>()): Promise<Map<string, string>> {
  for (const entry of await readdir(dir, { withFileTypes: true })) {
    const file = path.join(dir, entry.name)
    const { mode } = await lstat(file)
    if (entry.isDirectory()) {
      into.set(path.relative(root, file), `dir ${mode.toString(8)}`)
      await snapshot(file, into)
    } else if (entry.isSymbolicLink()) into.set(path.relative(root, file), `-> ${await readlink(file)}`)
    else
      into.set(
        path.relative(root, file),
        `${mode.toString(8)} ${createHash('sha256')
          .update(await readFile(file))
          .digest('hex')}`
      )
  }
  return into
}

t.test('install, install again, uninstall', async t => {
  const first = await run(INSTALL, ['--root', root, ...chain])
  t.match(first.stdout, /not the running system \(--root, or no systemd\): units installed and enabled, nothing started/)

  const at = (p: string): string => path.join(root, p)
  t.equal(await readlink(at('opt/seed-one/current')), 'slots/a')
  t.equal(await readlink(at('opt/seed-one/committed')), 'slots/a')
  const slot = at('opt/seed-one/slots/a')
  for (const entry of ['package.json', RELEASE_CLI, 'ui/build', 'contracts/build', 'node_modules'])
    t.ok((await stat(path.join(slot, entry))).uid === 0, `${entry} in slot a, owned by root`)
  t.equal(await stat(path.join(slot, 'server/cli.ts')).catch(() => 'absent'), 'absent', 'the built server, not its sources')
  t.equal(JSON.parse(await readFile(path.join(slot, 'package.json'), 'utf8')).name, 'seed-one')
  const { stdout: nodeVersion } = await run(at('usr/bin/node'), ['--version'])
  t.match(nodeVersion, /^v24\./, 'Node 24 at /usr/bin/node')

  t.match(
    await readFile(at('etc/passwd'), 'utf8'),
    /^seed-one:x:\d+:\d+:Seed One daemon:\/var\/lib\/seed-one:\/usr\/sbin\/nologin$/m,
    'the daemon user'
  )
  const config = await readFile(at('etc/seed-one/seed-one.env'), 'utf8')
  t.match(config, /^SEED_ONE_RPC_URL=http:\/\/127\.0\.0\.1:8545$/m)
  t.match(config, /^SEED_ONE_CONTRACT=0x5FbDB2315678afecb367f032d93F642f64180aa3$/m)
  t.match(config, /^SEED_ONE_PORT=80$/m)
  for (const unit of ['seed-one.service', 'seed-one-update.service', 'seed-one-update.timer']) {
    t.equal((await stat(at(`etc/systemd/system/${unit}`))).mode & 0o777, 0o644, unit)
  }
  t.equal(
    await readlink(at('etc/systemd/system/multi-user.target.wants/seed-one.service')),
    '/etc/systemd/system/seed-one.service',
    'enabled'
  )
  t.equal(await readlink(at('etc/systemd/system/timers.target.wants/seed-one-update.timer')), '/etc/systemd/system/seed-one-update.timer')

  // the owner's own settings survive a second run
  await appendFile(at('etc/seed-one/seed-one.env'), 'SEED_ONE_MONITOR_URL=https://monitor.example\n')
  const before = await snapshot(root)
  const second = await run(INSTALL, ['--root', root])
  t.match(second.stdout, /a release is installed \(slots\/a\): left to seed-one update/)
  t.same(await snapshot(root), before, 'the second run changed nothing')

  const removed = await run(INSTALL, ['--root', root, '--uninstall'])
  t.match(removed.stdout, /the data directory \/var\/lib\/seed-one is kept/)
  const left = [...(await snapshot(root)).keys()].filter(file => /seed-one|usr\/bin\/node/.test(file))
  t.same(left, [], 'nothing of Seed One is left')
  t.notMatch(await readFile(at('etc/passwd'), 'utf8'), /seed-one/, 'the user is gone')
})
