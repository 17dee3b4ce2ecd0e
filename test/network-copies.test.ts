// How many copies of a film the network holds (the Film screen's storage state): from the real DHT
// between a custodian and a box, and from a monitor's node registry (NODES_PATH of the box-monitor
// protocol), cached between look-ups.
import t from 'tap'
import Fastify from 'fastify'
import type { AddressInfo } from 'node:net'
import { generateKeyPair } from '@libp2p/crypto/keys'
import { createNetworkCopies } from '../server/library/network-copies.ts'
import { NODES_PATH, type RegistryNode } from '../server/wire/monitor-protocol.ts'
import { createStorageNode } from '../server/storage/helia-node.ts'
import { devnetWallet, startTestDevnet } from './helpers/devnet.ts'
import { buyFilm, registerFilm } from './helpers/films.ts'
import { libraryFilm } from './helpers/http.ts'
import { daemonConfig, startTestDaemon, testDir } from './helpers/in-process.ts'
import { signedInCookie } from './helpers/owner-session.ts'
import { waitFor } from './helpers/wait-for.ts'

t.test('the box counts the providers the DHT lists for the film, itself excepted', async t => {
  const devnet = await startTestDevnet(t)
  const creator = devnetWallet(t, devnet, devnet.accounts.creator.privateKey)
  const owner = devnetWallet(t, devnet, devnet.accounts.owner.privateKey)
  const custodian = await startTestDaemon(t, daemonConfig(devnet, testDir(t, 'custodian'), ['custodian']))
  const box = await startTestDaemon(t, daemonConfig(devnet, testDir(t, 'box'), ['player'], custodian.multiaddrs()))
  const screen = await signedInCookie(box.url, owner)

  const film = await registerFilm({ custodian, creator, contractAddress: devnet.contractAddress })
  // what a storage node does once it holds a replica (server/replication/replica-pins.ts)
  await custodian.helia.routing.provide(film.contentCid, { signal: AbortSignal.timeout(30_000) })
  await buyFilm(owner, devnet.contractAddress, film.tokenId)

  const counted = await waitFor('the network copies to be counted', async () => {
    const view = await libraryFilm(box.url, film.tokenId, screen)
    return view?.storage.networkCopies != null && view
  })
  t.equal(counted.storage.networkCopies, 1, 'the custodian holds the one copy on the network; the box own copy is not counted')
})

t.test("the monitor's registry: live holders other than this box that have not failed their challenges", async t => {
  const node = await createStorageNode({
    dataDir: testDir(t, 'node'),
    privateKey: await generateKeyPair('Ed25519'),
    listen: [],
    bootstrap: []
  })
  t.teardown(() => node.close())
  const selfId = node.libp2p.peerId.toString()
  const cid = 'bafkreigh2akiscaildcqabsyg3dfr6chu3fgpregiymsck7e7aqa4s52zy'
  const holder = (deviceId: string, changes: Partial<RegistryNode> = {}): RegistryNode => ({
    deviceId,
    apiUrl: 'http://127.0.0.1:1',
    multiaddrs: [],
    roles: ['storage'],
    lastReportAt: new Date().toISOString(),
    live: true,
    replicating: true,
    quotaBytes: 1e9,
    replicaBytes: 0,
    held: [cid],
    failed: [],
    score: 1,
    ...changes
  })
  let nodes: RegistryNode[] = [
    holder('a'),
    holder('b'),
    holder('gone', { live: false }),
    holder('cheat', { failed: [cid] }),
    holder('other', { held: ['bafkreiaaaa'] }),
    holder(selfId)
  ]
  let asked = 0
  const monitor = Fastify()
  monitor.get(NODES_PATH, async () => {
    asked++
    return { nodes }
  })
  await monitor.listen({ host: '127.0.0.1', port: 0 })
  t.teardown(() => monitor.close())
  const monitorUrl = `http://127.0.0.1:${(monitor.server.address() as AddressInfo).port}`

  const log = monitor.log
  const copies = createNetworkCopies({ helia: node, selfId, monitorUrl, ttlMs: 60_000, log })
  t.teardown(() => copies.close())
  t.equal(copies.count(cid), null, 'not known before the first look-up, which does not hold up the answer')
  t.equal(await waitFor('the count', async () => copies.count(cid) ?? undefined), 2, 'a and b')

  nodes = [holder('a')]
  t.equal(copies.count(cid), 2, 'within the cache time the last answer stands')
  t.equal(asked, 1, 'and the monitor was asked once')

  const fresh = createNetworkCopies({ helia: node, selfId, monitorUrl, ttlMs: 0, log })
  t.teardown(() => fresh.close())
  fresh.count(cid)
  t.equal(await waitFor('a fresh count', async () => fresh.count(cid) ?? undefined), 1, 'a new look-up sees the registry now')

  await monitor.close()
  await waitFor('the count to become unknown', async () => fresh.count(cid) === null)
  t.pass('a monitor that cannot be reached: unknown, not zero nor the old count')
})
