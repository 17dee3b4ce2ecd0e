// Fetching blocks between boxes over the block route (storage/block-fetcher.ts), on real parts: Helia
// storage nodes, each serving through Fastify with the box's real block route and peer-serving gate
// (quiet hours, upload cap). Blocks come over HTTP from a box that holds the DAG, each checked against
// its CID; a box that sends wrong bytes or refuses (quiet hours) is passed over for another or for bitswap;
// playback reads go ahead of a pin's. Then the product on real daemons (devnet, monitor): the
// replicator and the library pin over the block route of the boxes the monitor lists as holders.
import t from 'tap'
import { randomBytes } from 'node:crypto'
import type { AddressInfo } from 'node:net'
import Fastify from 'fastify'
import { generateKeyPair } from '@libp2p/crypto/keys'
import type { CID } from 'multiformats/cid'
import { BLOCK_PATH } from '../server/wire/monitor-protocol.ts'
import { answerErrorsByCode } from '../server/http/error-handler.ts'
import { createPeerServing, type PeerServing } from '../server/replication/peer-serving.ts'
import { replicationRoutes } from '../server/replication/routes.ts'
import { createSettingsStore, type SettingsStore } from '../server/settings/settings.ts'
import { HTTP_FETCH_CONCURRENCY, type BlockHolders } from '../server/storage/block-fetcher.ts'
import { addFile, isPinned, pinWithProgress, PIN_FETCH_CONCURRENCY } from '../server/storage/content.ts'
import { createStorageNode, type StorageNode } from '../server/storage/helia-node.ts'
import { openStateDb } from '../server/storage/state-db.ts'
import { childCids, dagBytes } from './helpers/blocks.ts'
import { devnetWallet, startTestDevnet } from './helpers/devnet.ts'
import { buyFilm, registerFilm } from './helpers/films.ts'
import { libraryFilm } from './helpers/http.ts'
import { daemonConfig, startTestDaemon, testDir, type Test } from './helpers/in-process.ts'
import { registry, startTestMonitor } from './helpers/monitor.ts'
import { signedInCookie } from './helpers/owner-session.ts'
import { changeSettings, quietAroundNow } from './helpers/settings.ts'
import { waitFor } from './helpers/wait-for.ts'

const MiB = 1024 * 1024

interface Box {
  helia: StorageNode
  settings: SettingsStore
  serving: PeerServing
  apiUrl: string
  /** CIDs of the blocks its block route sent, in order. */
  sent: string[]
}

/** A box's storage node and block route, on 127.0.0.1, closed when the test ends; `blockHolders`: whom it asks for blocks over HTTP. */
async function startBox(t: Test, name: string, bootstrap: string[] = [], blockHolders?: BlockHolders): Promise<Box> {
  const dataDir = testDir(t, name)
  const db = await openStateDb(dataDir)
  const settings = createSettingsStore(db)
  const serving = await createPeerServing(settings)
  const helia = await createStorageNode({
    dataDir,
    privateKey: await generateKeyPair('Ed25519'),
    listen: ['/ip4/127.0.0.1/tcp/0'],
    bootstrap,
    bitswapBlockstore: serving.bitswapBlockstore,
    blockHolders
  })
  const app = Fastify()
  answerErrorsByCode(app)
  const sent: string[] = []
  app.addHook('onResponse', async (request, reply) => {
    if (reply.statusCode === 200) sent.push((request.params as { cid: string }).cid)
  })
  await app.register(replicationRoutes, { helia, serving })
  await app.listen({ host: '127.0.0.1', port: 0 })
  t.teardown(async () => {
    await app.close()
    await helia.close()
    await serving.close()
    await db.close()
  })
  return { helia, settings, serving, apiUrl: `http://127.0.0.1:${(app.server.address() as AddressInfo).port}`, sent }
}

const multiaddrs = (box: Box): string[] => box.helia.libp2p.getMultiaddrs().map(String)
const holders =
  (...boxes: Array<{ apiUrl: string }>) =>
  async () =>
    boxes.map(box => box.apiUrl)

/** A box that answers every block request with bytes that are not the block. */
async function startLiar(t: Test): Promise<{ apiUrl: string; asked: () => number }> {
  const app = Fastify()
  let asked = 0
  app.get(BLOCK_PATH, async (_request, reply) => {
    asked++
    return await reply.type('application/vnd.ipld.raw').send(randomBytes(1024))
  })
  await app.listen({ host: '127.0.0.1', port: 0 })
  t.teardown(() => app.close())
  return { apiUrl: `http://127.0.0.1:${(app.server.address() as AddressInfo).port}`, asked: () => asked }
}

// 256 KiB leaves: 13 leaves and a root, so that a fetcher picking a holder at random for each block picks each of two
const SMALL_LEAF = 256 * 1024
const film = randomBytes(3 * MiB + 12_345)

/** Adds the film to `box` and pins it there; its CID. */
async function holdFilm(box: Box, bytes: Uint8Array = film, leafSize = SMALL_LEAF): Promise<CID> {
  const cid = await addFile(
    box.helia,
    (async function* () {
      yield bytes
    })(),
    undefined,
    leafSize
  )
  await pinWithProgress(box.helia, cid)
  return cid
}

t.test('a pin fetches every block over the block route of a box that holds the film', async t => {
  const source = await startBox(t, 'source')
  const cid = await holdFilm(source)
  // connected over libp2p too: bitswap could serve it, but a known HTTP holder comes first
  const replica = await startBox(t, 'replica', multiaddrs(source), holders(source))
  await pinWithProgress(replica.helia, cid)

  t.ok(await isPinned(replica.helia, cid), 'pinned')
  const total = await dagBytes(source.helia, cid)
  t.same(replica.helia.fetcher.figures(), { httpBytes: total, bitswapBytes: 0, refusedAnswers: 0 }, 'every block came over HTTP')
  t.equal(source.sent.length, 14, 'the source sent the root and the 13 leaves over its block route')
  t.equal(source.serving.figures().servedBytes, total, 'the serving side counted them')
  t.ok(Buffer.from(await replica.helia.content.readBytes(cid)).equals(film), 'the replica reads the film back')
})

t.test('a box that sends wrong bytes is refused; the blocks come from another box, or over bitswap', async t => {
  const source = await startBox(t, 'source')
  const cid = await holdFilm(source)
  const total = await dagBytes(source.helia, cid)
  const liar = await startLiar(t)

  const fromAnother = await startBox(t, 'from-another', [], holders(liar, source))
  await pinWithProgress(fromAnother.helia, cid)
  const figures = fromAnother.helia.fetcher.figures()
  // requests sent to it together are all answered wrongly; after the first answer it is asked no more
  t.ok(liar.asked() >= 1, `the liar was asked (${liar.asked()} times)`)
  t.same(
    figures,
    { httpBytes: total, bitswapBytes: 0, refusedAnswers: liar.asked() },
    'its answers refused, every block from the honest box'
  )
  t.ok(Buffer.from(await fromAnother.helia.content.readBytes(cid)).equals(film), 'nothing of the wrong bytes was stored')

  const overBitswap = await startBox(t, 'over-bitswap', multiaddrs(source), holders(liar))
  await pinWithProgress(overBitswap.helia, cid, { signal: AbortSignal.timeout(60_000) })
  const overBitswapFigures = overBitswap.helia.fetcher.figures()
  t.same(
    overBitswapFigures,
    { httpBytes: 0, bitswapBytes: total, refusedAnswers: overBitswapFigures.refusedAnswers },
    'no HTTP holder left: bitswap'
  )
  t.ok(overBitswapFigures.refusedAnswers >= 1, 'after the liar was refused')
  t.ok(Buffer.from(await overBitswap.helia.content.readBytes(cid)).equals(film), 'the film is whole')
})

t.test('a box in quiet hours serves nothing over the block route: the replica turns to a box that does', async t => {
  const quiet = await startBox(t, 'quiet')
  const awake = await startBox(t, 'awake')
  const cid = await holdFilm(quiet)
  t.same(await holdFilm(awake), cid, 'both hold the same film')
  await changeSettings(quiet, settings => {
    settings.replication.quietHours = quietAroundNow()
  })

  const replica = await startBox(t, 'replica', [], holders(quiet, awake))
  await pinWithProgress(replica.helia, cid)
  const figures = replica.helia.fetcher.figures()
  const refused = quiet.serving.figures().refusedBlocks
  t.ok(refused >= 1, `the quiet box refused (${refused} requests) and counted it`)
  t.same(
    figures,
    { httpBytes: await dagBytes(awake.helia, cid), bitswapBytes: 0, refusedAnswers: refused },
    'every block from the other box'
  )
  t.same(quiet.sent, [], 'the quiet box sent no block')
  t.equal(quiet.serving.figures().servedBytes, 0)

  // the quiet box the only holder, over HTTP and libp2p: nothing comes until its quiet hours end
  const waiting = await startBox(t, 'waiting', multiaddrs(quiet), holders(quiet))
  await t.rejects(pinWithProgress(waiting.helia, cid, { signal: AbortSignal.timeout(3_000) }), 'no block within 3 s')
  t.same(waiting.helia.fetcher.figures().httpBytes + waiting.helia.fetcher.figures().bitswapBytes, 0, 'nothing was fetched')
  t.equal(quiet.serving.figures().servedBytes, 0, 'nothing was served')
})

t.test('a playback read goes ahead of the pin’s queued requests', async t => {
  const leafSize = 256 * 1024
  const leaves = PIN_FETCH_CONCURRENCY + 8
  const bytes = randomBytes(leaves * leafSize)
  const source = await startBox(t, 'source')
  const cid = await holdFilm(source, bytes, leafSize)
  const leafCids = (await childCids(source.helia, cid)).map(String)
  // slow enough that the pin's window stays queued while the playback read is asked for
  await changeSettings(source, settings => {
    settings.replication.uploadCapBytesPerSec = 4 * leafSize
  })

  const replica = await startBox(t, 'replica', [], holders(source))
  const pinning = pinWithProgress(replica.helia, cid)
  await waitFor('the pin to hold its first leaf', async () => source.sent.includes(leafCids[0]), { timeoutMs: 30_000 })
  // the last leaf: past the pin's window, so only the playback read asks for it now
  const last = leaves - 1
  const sentBefore = source.sent.length
  const read = await replica.helia.content.readBytes(cid, { offset: last * leafSize, length: leafSize })
  t.ok(Buffer.from(read).equals(bytes.subarray(last * leafSize)), 'the read has the last leaf’s bytes')
  // ahead of it only the requests already out (HTTP_FETCH_CONCURRENCY, and one or two more the pin sends
  // while a loaded machine reads the root); behind a queue it would wait for the pin's whole window
  // (PIN_FETCH_CONCURRENCY). The bound is halfway: 8 ahead was seen with two busy processes beside the test.
  const ahead = source.sent.indexOf(leafCids[last]) - sentBefore
  t.ok(
    ahead <= (HTTP_FETCH_CONCURRENCY + PIN_FETCH_CONCURRENCY) / 2,
    `${ahead} blocks sent between the read's request and its block (the pin keeps ${PIN_FETCH_CONCURRENCY} asked for)`
  )
  await pinning
  t.ok(await isPinned(replica.helia, cid), 'the pin completes')
})

t.test('the replicator and the library pin over the block route of the boxes the monitor lists', async t => {
  const devnet = await startTestDevnet(t)
  const creator = devnetWallet(t, devnet, devnet.accounts.creator.privateKey)
  const owner = devnetWallet(t, devnet, devnet.accounts.owner.privateKey)
  const monitor = await startTestMonitor(t, testDir(t, 'monitor'))
  const onRack = { monitorUrl: monitor.url, reportIntervalSec: 1 }
  // the publisher, a storage node that replicates its films to itself: the monitor lists it holding them
  const source = await startTestDaemon(t, { ...daemonConfig(devnet, testDir(t, 'source'), ['custodian', 'storage']), ...onRack })
  const film = await registerFilm({ custodian: source, creator, contractAddress: devnet.contractAddress, bytes: 3 * MiB })
  // its three catalogue CIDs: the metadata's, the content's and the poster's
  await waitFor(
    'the monitor to list the source holding the film',
    async () => {
      const held = (await registry(monitor.url)).find(node => node.deviceId === source.identity.deviceId)?.held ?? []
      return held.length === 3 && held.includes(String(film.contentCid))
    },
    { timeoutMs: 120_000 }
  )
  const filmBytes = await dagBytes(source.helia, film.contentCid)

  // both connected to the source over libp2p as well, so bitswap could carry the film
  const storage = await startTestDaemon(t, { ...daemonConfig(devnet, testDir(t, 'storage'), ['storage'], source.multiaddrs()), ...onRack })
  await waitFor('the storage node to replicate the film', async () => await isPinned(storage.helia, film.contentCid), {
    timeoutMs: 120_000
  })
  const replicated = storage.helia.fetcher.figures()
  t.equal(replicated.bitswapBytes, 0, 'the replicator fetched nothing over bitswap')
  t.ok(
    replicated.httpBytes >= filmBytes,
    `the film's ${filmBytes} bytes came over the block route (${replicated.httpBytes} in all, with the metadata)`
  )

  const box = await startTestDaemon(t, { ...daemonConfig(devnet, testDir(t, 'box'), ['player'], source.multiaddrs()), ...onRack })
  const screen = await signedInCookie(box.url, owner)
  await buyFilm(owner, devnet.contractAddress, film.tokenId)
  await waitFor('the film to be ready on the box', async () => (await libraryFilm(box.url, film.tokenId, screen))?.state === 'ready', {
    timeoutMs: 120_000
  })
  const pinned = box.helia.fetcher.figures()
  t.ok(pinned.httpBytes >= filmBytes, `the library pinned the film over the block route (${pinned.httpBytes} bytes)`)
  // the poster too, which the source holds as a replica and the monitor lists
  t.equal(pinned.bitswapBytes, 0, 'nothing came over bitswap')
})
