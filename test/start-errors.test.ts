// Errors that say what to do, and nothing left behind (issue 17): a port in use names the port the user
// chose and the flag that changes it; a wrong --rpc-url says the chain did not answer and what to check,
// without ethers' "retry in 1s"; and a first start that fails leaves no half-made data directory.
import t from 'tap'
import { mkdir, readdir, writeFile } from 'node:fs/promises'
import { existsSync } from 'node:fs'
import { createServer, type Server } from 'node:net'
import { freePort, runCliToEnd } from './helpers/daemon-process.ts'
import { devnetCliFlags, startTestDevnet } from './helpers/devnet.ts'
import { testDir, type Test } from './helpers/in-process.ts'

const devnet = await startTestDevnet(t)

/** Holds `port` on 127.0.0.1 as another program would, until the test ends. */
async function occupy(t: Test, port: number): Promise<Server> {
  const server = createServer()
  await new Promise<void>(resolve => server.listen(port, '127.0.0.1', resolve))
  t.teardown(() => new Promise(resolve => server.close(resolve)))
  return server
}

t.test('start on a port in use names that port and --port, and makes no data directory', async t => {
  const port = await freePort()
  await occupy(t, port)
  const dataDir = testDir(t, 'box')
  const { code, output } = await runCliToEnd(['start', '--port', String(port), '--data-dir', dataDir, ...devnetCliFlags(devnet)])
  t.equal(code, 1)
  t.match(output, `seed-one start: port ${port} on 127.0.0.1 is in use by another program (another seed-one?): choose another with --port`)
  t.notMatch(output, /EADDRINUSE/, "not Node's own words")
  t.notOk(existsSync(dataDir), 'no data directory, so no new keys')
})

t.test("demo with its custodian's port taken names that port, how it derives from --port, and makes nothing", async t => {
  const port = await freePort()
  await occupy(t, port + 1)
  const dataDir = testDir(t, 'demo')
  const { code, output } = await runCliToEnd(['demo', '--port', String(port), '--data-dir', dataDir])
  t.equal(code, 1)
  t.match(output, `port ${port + 1} (the demo's custodian, at --port + 1) on 127.0.0.1 is in use`)
  t.match(output, 'choose another with --port')
  t.notOk(existsSync(dataDir), 'no devnet, custodian or box directory')
})

t.test('a wrong --rpc-url says the chain did not answer and what to check, and leaves nothing', async t => {
  const deadPort = await freePort()
  const dataDir = testDir(t, 'box')
  const { code, output } = await runCliToEnd([
    'start',
    '--port',
    '0',
    '--data-dir',
    dataDir,
    ...devnetCliFlags(devnet, `http://127.0.0.1:${deadPort}`)
  ])
  t.equal(code, 1)
  t.match(output, `the chain at http://127.0.0.1:${deadPort} did not answer`)
  t.match(output, 'check --rpc-url, and that the chain runs there')
  t.notMatch(output, /retry in 1s|failed to detect network/, 'no ethers retry notice that never happens')
  t.notOk(existsSync(dataDir), 'the data directory this start made is gone')
})

t.test('a failed start in an empty directory (a mount point) empties it again; one in a used directory is left alone', async t => {
  const deadRpc = devnetCliFlags(devnet, `http://127.0.0.1:${await freePort()}`)
  const empty = testDir(t, 'mount-point')
  await mkdir(empty)
  t.equal((await runCliToEnd(['start', '--port', '0', '--data-dir', empty, ...deadRpc])).code, 1)
  t.strictSame(await readdir(empty), [], 'the directory stays, empty')
  const used = testDir(t, 'used')
  await mkdir(used)
  await writeFile(`${used}/kept`, 'a box was here')
  t.equal((await runCliToEnd(['start', '--port', '0', '--data-dir', used, ...deadRpc])).code, 1)
  t.ok((await readdir(used)).includes('kept'), 'what was there is not touched')
})

t.test('--p2p-listen that is no address names the flag and the expected form', async t => {
  const dataDir = testDir(t, 'box')
  const { code, output } = await runCliToEnd(['start', '--p2p-listen', 'tcp:4001', '--data-dir', dataDir, ...devnetCliFlags(devnet)])
  t.equal(code, 1)
  t.match(
    output,
    'seed-one start: --p2p-listen takes a libp2p address such as /ip4/0.0.0.0/tcp/4001, or a bare port such as 4001; got "tcp:4001"'
  )
  t.notOk(existsSync(dataDir))
})
