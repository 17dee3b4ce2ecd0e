// Absence on a schedule is not failure (issue 15), on real parts on 127.0.0.1: the devnet, the real
// monitor, a custodian that published the films, and five storage nodes keeping a target of 3 copies
// with a minimum of 2. A node in its announced quiet hours falls silent: the monitor lists it resting
// and no node fetches its CIDs. Then nodes fall silent with no window: while every CID keeps 2 present
// copies nothing is fetched; once some fall under 2, they are repaired.
import t from 'tap'
import { CID } from 'multiformats/cid'
import type { Daemon } from '../server/daemon.ts'
import type { DaemonConfig } from '../server/config.ts'
import type { RegistryNode } from '../server/wire/monitor-protocol.ts'
import type { Fleet } from '../server/monitor/fleet.ts'
import { metadataCidFromUri } from '../server/library/film-metadata.ts'
import { isPinned } from '../server/storage/content.ts'
import { connectDevnet, devnetWallet, startTestDevnet } from './helpers/devnet.ts'
import { registerFilm } from './helpers/films.ts'
import { getJson } from './helpers/http.ts'
import { daemonConfig, startTestDaemon, testDir } from './helpers/in-process.ts'
import { registry, startTestMonitor } from './helpers/monitor.ts'
import { changeSettings, quietAroundNow } from './helpers/settings.ts'
import { waitFor } from './helpers/wait-for.ts'

const TARGET = 3
const MIN = 2
const NODES = 5
const REPORT_INTERVAL_SEC = 2
const NODE_TIMEOUT_MS = 6_000

const devnet = await startTestDevnet(t)
const creator = devnetWallet(t, devnet, devnet.accounts.creator.privateKey)
const { creator: token } = connectDevnet(t, devnet)
const monitor = await startTestMonitor(t, testDir(t, 'monitor'), {
  nodeTimeoutMs: NODE_TIMEOUT_MS,
  failuresBeforeFailed: 1,
  minReplicas: MIN
})
// the custodian stays up: a CID whose holders are all away is fetched from it
const custodian = await startTestDaemon(t, daemonConfig(devnet, testDir(t, 'custodian'), ['custodian']))
const catalogue: string[] = []
for (let i = 0; i < 2; i++) {
  const film = await registerFilm({ custodian, creator, contractAddress: devnet.contractAddress, bytes: 300 * 1024 })
  catalogue.push(metadataCidFromUri((await token.getFunction('uri')(film.tokenId)) as string).toString(), film.contentCid.toString())
}
const configs: DaemonConfig[] = Array.from({ length: NODES }, (_, i) => ({
  ...daemonConfig(devnet, testDir(t, `node-${i}`), ['storage'], custodian.multiaddrs()),
  monitorUrl: monitor.url,
  reportIntervalSec: REPORT_INTERVAL_SEC,
  chainPollMs: 500,
  pinStallMs: 10_000,
  minReplicas: MIN
}))
const nodes: Array<Daemon | undefined> = []
for (const config of configs) nodes.push(await startTestDaemon(t, config))
const ids = nodes.map(node => node!.identity.deviceId)

/** The catalogue CIDs each running node has pinned, by node index ('' for a stopped node). */
async function pins(): Promise<string[]> {
  return await Promise.all(
    nodes.map(async node => {
      if (node === undefined) return ''
      const held: string[] = []
      for (const cid of catalogue) if (await isPinned(node.helia, CID.parse(cid))) held.push(cid.slice(-6))
      return held.join(',')
    })
  )
}
const listedNode = async (i: number): Promise<RegistryNode | undefined> => (await registry(monitor.url)).find(n => n.deviceId === ids[i])

/** Stops node i, and waits for the monitor to list it as `state` (past the timeout). */
async function silence(i: number, state: 'resting' | 'gone'): Promise<void> {
  await nodes[i]!.close()
  nodes[i] = undefined
  await waitFor(
    `node ${i} to be listed ${state}`,
    async () => {
      const node = await listedNode(i)
      return node !== undefined && !node.live && (node.resting === true) === (state === 'resting')
    },
    { timeoutMs: NODE_TIMEOUT_MS + 30_000 }
  )
}

/**
 * Waits until every running node has reported twice since now: each report follows passes that read
 * the registry (every 500 ms) and found the node set changed. What a node would fetch, it has begun to.
 */
async function nodesHaveSeenIt(): Promise<void> {
  const since = new Date(Date.now() + 2 * REPORT_INTERVAL_SEC * 1000).toISOString()
  const running = ids.filter((_, i) => nodes[i] !== undefined)
  await waitFor('every running node to report twice more', async () => {
    const listed = await registry(monitor.url)
    return running.every(id => (listed.find(n => n.deviceId === id)?.lastReportAt ?? '') > since)
  })
}

const fleet = async (): Promise<Fleet> => await getJson<Fleet>(`${monitor.url}/api/fleet`)

t.test('every CID reaches 3 copies, each proven to the monitor, and the nodes settle', async t => {
  let seen = ''
  await waitFor(
    `${TARGET} copies of each of ${catalogue.length} CIDs, proven, no pin under way, no surplus left`,
    async () => {
      const listed = await registry(monitor.url)
      const proven = catalogue.map(cid => listed.filter(n => n.live && n.held.includes(cid)).length)
      const pinned = await pins()
      const copies = catalogue.map(cid => pinned.filter(p => p.split(',').includes(cid.slice(-6))).length)
      const missing = await Promise.all(nodes.map(async node => (await node!.replicator!.status()).missing))
      seen = `proven copies ${proven.join(' ')}; pins ${pinned.join(' | ')}; missing ${missing.join(' ')}`
      // a node joining late takes its share while the early ones still hold it: wait until that is over
      return proven.every(n => n === TARGET) && copies.every(n => n === TARGET) && missing.every(n => n === 0)
    },
    { timeoutMs: 120_000, lastSeen: () => seen }
  )
  t.pass(`pins: ${(await pins()).join(' | ')}`)
})

/** Node indexes: the one resting, then the two that go without a window. */
let resting = -1

t.test('a node silent in its announced quiet hours is listed resting, and nobody fetches its CIDs', async t => {
  const pinned = await pins()
  resting = pinned.map(p => p.split(',').length).indexOf(Math.max(...pinned.map(p => p.split(',').length)))
  await changeSettings(nodes[resting]!, s => void (s.replication.quietHours = quietAroundNow()))
  await waitFor('its next report to announce the window', async () => {
    const node = (await fleet()).nodes.find(n => n.deviceId === ids[resting])
    return node?.rest.some(w => w.reason === 'quiet-hours') === true
  })
  await silence(resting, 'resting')
  t.pass(`node ${resting} is listed resting`)
  await nodesHaveSeenIt()
  const after = await pins()
  t.same(
    after.filter((_, i) => i !== resting),
    pinned.filter((_, i) => i !== resting),
    'no running node pinned anything new'
  )
  const health = (await fleet()).replication
  t.equal(health.underReplicated, 0, 'no CID is under the minimum with the resting copies')
  t.equal((await fleet()).nodes.find(n => n.deviceId === ids[resting])?.resting, true, 'the dashboard shows it resting')
})

t.test('a node gone with no window: no fetch while 2 present copies remain; under 2, repaired', async t => {
  t.ok(resting >= 0, 'after the resting node')
  const heldBy = (pinned: string[], i: number): Set<string> => new Set(pinned[i].split(',').filter(c => c !== ''))
  const before = await pins()
  const others = [0, 1, 2, 3, 4].filter(i => i !== resting)
  // the first to go, one holding most CIDs (rendezvous can give a node none: 4 CIDs each on 3 of 5 nodes
  // miss a given node 2.6 % of the time), and the one sharing most CIDs with it: their shared CIDs fall
  // under 2 present copies
  const [first] = [...others].sort((a, b) => heldBy(before, b).size - heldBy(before, a).size)
  const shared = (i: number): number => [...heldBy(before, first)].filter(c => heldBy(before, i).has(c)).length
  const second = others.filter(i => i !== first).sort((a, b) => shared(b) - shared(a))[0]
  t.ok(shared(second) > 0, `nodes ${first} and ${second} share ${shared(second)} CIDs`)

  await silence(first, 'gone')
  await nodesHaveSeenIt()
  t.same(
    (await pins()).filter((_, i) => nodes[i] !== undefined),
    before.filter((_, i) => nodes[i] !== undefined),
    `node ${first} gone: every CID keeps ${MIN} present copies, nothing is fetched`
  )

  await silence(second, 'gone')
  const present = async (): Promise<Map<string, number>> => {
    const listed = await registry(monitor.url)
    return new Map(catalogue.map(cid => [cid, listed.filter(n => (n.live || n.resting === true) && n.held.includes(cid)).length]))
  }
  const repaired = await waitFor(
    `every CID back at ${MIN} present copies at least`,
    async () => {
      const counts = await present()
      return [...counts.values()].every(n => n >= MIN) && counts
    },
    { timeoutMs: 90_000 }
  )
  const after = await pins()
  const gained = after.flatMap((_, i) => (nodes[i] === undefined ? [] : [...heldBy(after, i)].filter(c => !heldBy(before, i).has(c))))
  t.ok(gained.length > 0, `the live nodes fetched ${gained.length} copies: ${after.join(' | ')}`)
  t.comment(`present copies per CID: ${[...repaired.values()].join(' ')}`)
})
