// Replication across a rack on real parts: the devnet, the real monitor (reports, registry, liveness,
// challenges), a custodian that published the films, and five storage nodes with k = 3, all on
// 127.0.0.1. Copies are counted from each node's own pins.
import t from 'tap'
import path from 'node:path'
import { rm } from 'node:fs/promises'
import { NextToLast } from 'blockstore-fs/sharding'
import type { Daemon } from '../server/daemon.ts'
import type { DaemonConfig } from '../server/config.ts'
import type { DeviceSettings } from '../server/settings/settings.ts'
import { CID } from 'multiformats/cid'
import { metadataCidFromUri } from '../server/library/film-metadata.ts'
import { isPinned } from '../server/storage/content.ts'
import { setTimeout as delay } from 'node:timers/promises'
import { childCids } from './helpers/blocks.ts'
import { freePort } from './helpers/daemon-process.ts'
import { connectDevnet, devnetWallet, startTestDevnet } from './helpers/devnet.ts'
import { registerFilm, type HandMadeFilm } from './helpers/films.ts'
import { daemonConfig, startTestDaemon, testDir } from './helpers/in-process.ts'
import { registry, startTestMonitor } from './helpers/monitor.ts'
import { waitFor } from './helpers/wait-for.ts'

const K = 3
const NODES = 5
const REPORT_INTERVAL_SEC = 2
const NODE_TIMEOUT_MS = 6_000
const FILMS = 3

const devnet = await startTestDevnet(t)
const creator = devnetWallet(t, devnet, devnet.accounts.creator.privateKey)
const { creator: token } = connectDevnet(t, devnet)
// on a port of its own, so that it can come back where the nodes look for it
const monitorDir = testDir(t, 'monitor')
const monitorOptions = { port: await freePort(), nodeTimeoutMs: NODE_TIMEOUT_MS, failuresBeforeFailed: 1 }
let monitor = await startTestMonitor(t, monitorDir, monitorOptions)
const custodian = await startTestDaemon(t, daemonConfig(devnet, testDir(t, 'custodian'), ['custodian']))

// films of a little over a MiB: a root and two leaves each, so challenges have leaves to ask for
const films: HandMadeFilm[] = []
for (let i = 0; i < FILMS; i++) {
  films.push(await registerFilm({ custodian, creator, contractAddress: devnet.contractAddress, bytes: 1024 * 1024 + 300 * 1024 }))
}
/** Every catalogue CID, from the chain (the metadata URIs) and the films as published. */
const catalogue: string[] = []
for (const film of films) {
  catalogue.push(metadataCidFromUri((await token.getFunction('uri')(film.tokenId)) as string).toString(), film.contentCid.toString())
}

const configs: DaemonConfig[] = Array.from({ length: NODES }, (_, i) => ({
  ...daemonConfig(devnet, testDir(t, `node-${i}`), ['storage'], custodian.multiaddrs()),
  monitorUrl: monitor.url,
  reportIntervalSec: REPORT_INTERVAL_SEC,
  chainPollMs: 500,
  // a pin that gets stuck (bitswap can lose a want) is asked again sooner than a box's 60 s
  pinStallMs: 10_000
}))
/** The running storage nodes, by index; a stopped one is undefined. */
const nodes: Array<Daemon | undefined> = []
for (const config of configs) nodes.push(await startTestDaemon(t, config))

/** Starts node i again on its data; the file's teardown (not a subtest's) closes it. */
async function restart(i: number): Promise<void> {
  nodes[i] = await startTestDaemon(t, configs[i])
}

/** Starts the monitor again on its port and data; the file's teardown (not a subtest's) closes it. */
async function restartMonitor(): Promise<void> {
  monitor = await startTestMonitor(t, monitorDir, monitorOptions)
}

/** The node the quota subtest shrank, and to what. */
let smallNode: { index: number; settings: DeviceSettings } | undefined

const running = (): Daemon[] => nodes.filter((node): node is Daemon => node !== undefined)

/** Copies of each catalogue CID among the running nodes, from their own pins. */
async function copies(): Promise<Map<string, number>> {
  const counts = new Map<string, number>()
  for (const cid of catalogue) {
    let held = 0
    for (const node of running()) if (await isPinned(node.helia, CID.parse(cid))) held++
    counts.set(cid, held)
  }
  return counts
}
const describe = (counts: Map<string, number>): string => [...counts.values()].join(' ')

/** One node as a failed wait reports it: which it is, what it is assigned and holds, its peers. */
async function nodeState(node: Daemon): Promise<string> {
  const status = await node.replicator!.status()
  const index = nodes.indexOf(node)
  return `${index}: ${status.met}/${status.assigned} held ${status.held.length}, ${node.helia.libp2p.getPeers().length} peers`
}

async function waitForCopies(what: string, check: (n: number) => boolean, timeoutMs = 60_000): Promise<Map<string, number>> {
  return (await watchCopies(what, counts => [...counts.values()].every(check), timeoutMs)).last
}

/**
 * Counts the copies every 100 ms until `done` accepts them: the last counts, and the lowest count
 * each CID had in any sample (how far it fell while nodes fetched and released).
 */
async function watchCopies(
  what: string,
  done: (counts: Map<string, number>) => boolean | Promise<boolean>,
  timeoutMs = 60_000
): Promise<{ last: Map<string, number>; lowest: Map<string, number>; samples: number }> {
  let last = new Map<string, number>()
  let nodesSeen = ''
  const lowest = new Map(catalogue.map(cid => [cid, Infinity]))
  let samples = 0
  await waitFor(
    what,
    async () => {
      last = await copies()
      samples++
      for (const [cid, n] of last) lowest.set(cid, Math.min(lowest.get(cid) as number, n))
      if (await done(last)) return true
      nodesSeen = (await Promise.all(running().map(nodeState))).join(', ')
      return false
    },
    { timeoutMs, intervalMs: 100, lastSeen: () => `copies ${describe(last)}; nodes ${nodesSeen}` }
  )
  return { last, lowest, samples }
}

const neverUnder = (watched: { lowest: Map<string, number>; samples: number }): [boolean, string] => [
  [...watched.lowest.values()].every(n => n >= K),
  `never under ${K} in ${watched.samples} samples (lowest per CID: ${describe(watched.lowest)})`
]

t.test('every film reaches 3 copies, then exactly 3', async t => {
  const reached = await waitForCopies(`${K} copies of each of ${catalogue.length} CIDs`, n => n >= K)
  t.comment(`copies per CID: ${describe(reached)}`)
  const settled = await waitForCopies(`exactly ${K} copies once every node is in the registry`, n => n === K)
  t.pass(`copies per CID: ${describe(settled)}`)
  const nodesListed = (await registry(monitor.url)).filter(node => node.live && node.roles.includes('storage'))
  t.equal(nodesListed.length, NODES, 'the monitor lists the five nodes live')
})

t.test('a node goes away: its share is repaired from the other replicas; it comes back: surplus released, never under 3', async t => {
  // the custodian goes first: from now on every copy comes from the replicas
  await custodian.close()
  const counts = new Map<string, number>()
  for (const [i, node] of nodes.entries()) {
    let held = 0
    for (const cid of catalogue) if (await isPinned(node!.helia, CID.parse(cid))) held++
    counts.set(String(i), held)
  }
  const victim = Number([...counts].sort((a, b) => b[1] - a[1])[0][0])
  t.comment(`stopping node ${victim}, which holds ${counts.get(String(victim))} of the ${catalogue.length} CIDs`)
  const victimId = nodes[victim]!.identity.deviceId
  const stoppedAt = performance.now()
  await nodes[victim]!.close()
  nodes[victim] = undefined

  const under = await copies()
  t.ok(
    [...under.values()].some(n => n < K),
    `some CIDs are under ${K} at once: ${describe(under)}`
  )
  await waitForCopies(`${K} copies again on the four nodes left`, n => n >= K, NODE_TIMEOUT_MS + 60_000)
  const repairMs = performance.now() - stoppedAt
  t.comment(
    `repair: factor back at ${K} ${(repairMs / 1000).toFixed(1)} s after the node stopped (node timeout ${NODE_TIMEOUT_MS / 1000} s)`
  )
  // its last report came at most one interval before it stopped
  t.ok(repairMs >= NODE_TIMEOUT_MS - REPORT_INTERVAL_SEC * 1000, 'not before the monitor called the node down')
  t.equal((await registry(monitor.url)).find(node => node.deviceId === victimId)?.live, false, 'the monitor lists it down')

  await restart(victim)
  // sampled while the surplus is released: from the repair on, no CID is ever under 3
  const watched = await watchCopies(`exactly ${K} copies again with node ${victim} back`, counts =>
    [...counts.values()].every(n => n === K)
  )
  t.ok(...neverUnder(watched))
})

t.test('a quota too small for a node’s share: the share goes to the next nodes, the factor holds', async t => {
  const contentHeld = async (node: Daemon): Promise<string[]> => {
    const held: string[] = []
    for (const film of films) if (await isPinned(node.helia, film.contentCid)) held.push(film.contentCid.toString())
    return held
  }
  let index = -1
  for (const [i, node] of nodes.entries()) if (index === -1 && (await contentHeld(node!)).length > 0) index = i
  const small = nodes[index]!
  const before = await contentHeld(small)
  t.ok(before.length > 0, `node ${index} holds ${before.length} films' content`)
  const quota = Math.floor(films[0].plaintext.length / 2) // room for metadata, none for a film's content
  const settings = await small.settings.get()
  await small.settings.put({ ...settings, storageQuotaBytes: quota })
  smallNode = { index, settings }

  const watched = await watchCopies(
    `node ${index} to let its films' content go, and exactly ${K} copies of everything`,
    async counts => (await contentHeld(small)).length === 0 && [...counts.values()].every(n => n === K)
  )
  t.ok(...neverUnder(watched))
  const status = await small.replicator!.status()
  t.ok(status.replicaBytes <= quota, `node ${index}'s replicas take ${status.replicaBytes} bytes, within its ${quota}`)
  t.pass(`its share went to the next nodes: copies per CID ${describe(watched.last)}`)
})

t.test('a node that deletes a block fails its next challenge, and its copy is made elsewhere', async t => {
  // a node holding some film's content, and that content
  let target: { node: Daemon; index: number; cid: string } | undefined
  for (const [index, node] of nodes.entries()) {
    for (const film of films) {
      if (target === undefined && index !== smallNode?.index && (await isPinned(node!.helia, film.contentCid))) {
        target = { node: node!, index, cid: film.contentCid.toString() }
      }
    }
  }
  if (target === undefined) throw new Error('no node holds a film’s content')
  const { node, index, cid } = target
  // the leaves' files go from its disk (Helia refuses to delete pinned blocks): it still claims the content
  for (const leaf of await childCids(node.helia, CID.parse(cid))) {
    const { dir, file } = new NextToLast().encode(leaf)
    await rm(path.join(configs[index].dataDir, 'helia', 'blocks', dir, file))
  }
  const outcome = await waitFor(
    `a challenge of node ${index} for ${cid}`,
    async () => {
      const result = await monitor.challenger.challenge(node.identity.deviceId)
      return result?.cid === cid && result
    },
    { timeoutMs: 30_000, intervalMs: 0 }
  )
  t.notOk(outcome.passed, `failed: ${outcome.reason}`)
  const listed = (await registry(monitor.url)).find(n => n.deviceId === node.identity.deviceId)
  t.ok(listed?.failed.includes(cid), 'the registry lists the CID as failed by the node')

  let holders: string[] = []
  await waitFor(
    `${K} other nodes holding ${cid} and node ${index} releasing its broken copy`,
    async () => {
      holders = []
      for (const [i, other] of nodes.entries()) if (await isPinned(other!.helia, CID.parse(cid))) holders.push(String(i))
      return holders.length === K && !holders.includes(String(index))
    },
    { timeoutMs: 60_000, lastSeen: () => holders }
  )
  t.pass(`${cid} is held by nodes ${holders.join(', ')}; node ${index} released it`)
})

t.test('the monitor unreachable: the last registry is kept, and nothing is released until it is back', async t => {
  if (smallNode === undefined) throw new Error('the quota subtest did not run')
  const { index, settings } = smallNode
  await monitor.close()
  // past the registry's staleness (three polls): no node can confirm copies elsewhere any more
  await delay(3 * configs[0].registryPollMs + 500)
  // the small node gets its quota back and takes its share again at once; the others, on the last
  // registry they read, still see its small quota and keep their copies
  await nodes[index]!.settings.put(settings)
  const { last: counts } = await watchCopies(`node ${index} to take its share back`, counts => [...counts.values()].some(n => n > K))
  const during = new Map(counts)
  for (let sample = 0; sample < 15; sample++) {
    await delay(200)
    for (const [cid, n] of await copies()) during.set(cid, Math.min(during.get(cid) as number, n))
  }
  t.same([...during.values()], [...counts.values()], `no copy released while the monitor was away (copies per CID ${describe(counts)})`)

  await restartMonitor()
  const watched = await watchCopies(`exactly ${K} copies once the monitor is back`, counts => [...counts.values()].every(n => n === K))
  t.ok(...neverUnder(watched))
  t.pass(`the surplus went once the registry confirmed it: copies per CID ${describe(watched.last)}`)
})

t.test('replication turned off: the node takes no share, and lets its copies go once the others hold them', async t => {
  const counts = new Map<number, number>()
  for (const [i, node] of nodes.entries()) {
    let held = 0
    for (const cid of catalogue) if (await isPinned(node!.helia, CID.parse(cid))) held++
    counts.set(i, held)
  }
  const index = [...counts].sort((a, b) => b[1] - a[1])[0][0]
  const node = nodes[index]!
  t.ok(counts.get(index)! > 0, `node ${index} holds ${counts.get(index)} CIDs`)
  await node.settings.put({ ...(await node.settings.get()), replication: { ...(await node.settings.get()).replication, enabled: false } })

  const holdsNothing = async (): Promise<boolean> => {
    for (const cid of catalogue) if (await isPinned(node.helia, CID.parse(cid))) return false
    return true
  }
  const watched = await watchCopies(
    `node ${index} to hold nothing, with exactly ${K} copies of everything on the others`,
    async counts => (await holdsNothing()) && [...counts.values()].every(n => n === K)
  )
  t.ok(...neverUnder(watched))
  const status = await node.replicator!.status()
  t.same([status.enabled, status.assigned, status.replicaBytes], [false, 0, 0], 'it reports replication off, nothing assigned')
  const listed = (await registry(monitor.url)).find(n => n.deviceId === node.identity.deviceId)
  t.equal(listed?.replicating, false, 'the registry lists it as not replicating')
})
