// A stable libp2p port by default (issue 17): without --p2p-listen a box keeps the port its first start
// took, so a --peer address copied from its "libp2p:" line works after a restart; a taken kept port is
// refused naming the port, where it is kept, and the flag that changes it.
import t from 'tap'
import { readFile } from 'node:fs/promises'
import path from 'node:path'
import { createServer } from 'node:net'
import { freePort, runCliToEnd, startDaemonProcess } from './helpers/daemon-process.ts'
import { devnetCliFlags, startTestDevnet } from './helpers/devnet.ts'
import { testDir } from './helpers/in-process.ts'

const devnet = await startTestDevnet(t)

t.test('a box without --p2p-listen listens on the same port at every start', async t => {
  const dataDir = testDir(t, 'box')
  const args = ['--port', '0', '--data-dir', dataDir, ...devnetCliFlags(devnet)]
  const first = await startDaemonProcess(args)
  const firstAddress = first.multiaddrs[0]
  await first.close()
  const kept = Number((await readFile(path.join(dataDir, 'p2p-port'), 'utf8')).trim())
  t.match(firstAddress, `/ip4/127.0.0.1/tcp/${kept}/p2p/`, 'the port it took is the one kept')
  const second = await startDaemonProcess(args)
  t.teardown(() => second.close())
  t.strictSame(second.multiaddrs, first.multiaddrs, 'the same address after a restart: a --peer copied earlier still works')
})

t.test('a kept port another program holds is refused, naming it, where it is kept, and --p2p-listen', async t => {
  const dataDir = testDir(t, 'box')
  const args = ['--port', '0', '--data-dir', dataDir, ...devnetCliFlags(devnet)]
  await (await startDaemonProcess(args)).close()
  const kept = Number((await readFile(path.join(dataDir, 'p2p-port'), 'utf8')).trim())
  const holder = createServer()
  await new Promise<void>(resolve => holder.listen(kept, '127.0.0.1', resolve))
  t.teardown(() => new Promise(resolve => holder.close(resolve)))
  const { code, output } = await runCliToEnd(['start', ...args])
  t.equal(code, 1)
  t.match(
    output,
    `port ${kept} (the libp2p port kept in ${path.join(dataDir, 'p2p-port')} since this box's first start, which other boxes' --peer addresses name) on 127.0.0.1 is in use`
  )
  t.match(output, 'choose another with --p2p-listen')
  const other = await freePort()
  const moved = await startDaemonProcess([...args, '--p2p-listen', String(other)])
  t.teardown(() => moved.close())
  t.match(moved.multiaddrs[0], `/ip4/127.0.0.1/tcp/${other}/p2p/`, 'a bare port given to --p2p-listen is used')
})
