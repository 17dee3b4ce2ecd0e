// `seed-one start` keeps Node's module compile cache in its data directory: written as the daemon stops,
// this release's only. Run through the real CLI: under tap's module hooks Node caches nothing.
import t from 'tap'
import { mkdir, readdir, stat, writeFile } from 'node:fs/promises'
import path from 'node:path'
import { VERSION } from '../server/lib/version.ts'
import { startDaemonProcess } from './helpers/daemon-process.ts'
import { startTestDevnet } from './helpers/devnet.ts'

t.test('the cache is written under the data directory once the daemon is up, and an older release’s is removed', async t => {
  const devnet = await startTestDevnet(t)
  const dataDir = path.join(t.testdir(), 'data')
  const cacheRoot = path.join(dataDir, 'compile-cache')
  const start = async () => {
    const daemon = await startDaemonProcess([
      '--data-dir',
      dataDir,
      '--port',
      '0',
      '--rpc-url',
      devnet.rpcUrl,
      '--contract',
      devnet.contractAddress
    ])
    t.teardown(() => daemon.close())
    return daemon
  }
  // the variable would choose the directory instead
  delete process.env.NODE_COMPILE_CACHE

  const first = await start()
  t.equal((await stat(dataDir)).mode & 0o777, 0o700, 'the data directory it made is private')
  await first.close()
  const written = await readdir(path.join(cacheRoot, VERSION), { recursive: true })
  t.ok(written.length > 100, `${written.length} cache entries written as the daemon stopped`)

  await mkdir(path.join(cacheRoot, '0.0.1-older'))
  await writeFile(path.join(cacheRoot, '0.0.1-older', 'entry'), 'stale')
  const second = await start()
  t.same(await readdir(cacheRoot), [VERSION], "the older release's cache is gone")
  t.equal((await (await fetch(`${second.url}/api/status`)).json()).version, VERSION, 'the daemon started with the cache')
})
