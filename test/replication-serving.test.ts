// What a box serves other boxes, on real daemons (devnet, a storage node that published the films,
// a second storage node and a player fetching from it over bitswap and HTTP): the block and
// challenge routes, quiet hours, the upload cap, and the throttle while the box streams to its screen.
import t from 'tap'
import path from 'node:path'
import { rm } from 'node:fs/promises'
import { NextToLast } from 'blockstore-fs/sharding'
import { CID } from 'multiformats/cid'
import type { Daemon } from '../server/daemon.ts'
import { BLOCK_PATH, CHALLENGE_PATH } from '../server/wire/monitor-protocol.ts'
import { createPeerServing, STREAMING_PEER_BYTES_PER_SEC } from '../server/replication/peer-serving.ts'
import { MAX_CHALLENGE_BLOCKS } from '../server/replication/routes.ts'
import { DEFAULT_SETTINGS } from '../server/settings/settings.ts'
import { createSettingsStore } from '../server/settings/settings.ts'
import { isPinned, pinWithProgress } from '../server/storage/content.ts'
import { openStateDb } from '../server/storage/state-db.ts'
import { blockBytes, childCids } from './helpers/blocks.ts'
import { devnetWallet, startTestDevnet } from './helpers/devnet.ts'
import { registerFilm } from './helpers/films.ts'
import { postJson, rawRequest } from './helpers/http.ts'
import { daemonConfig, startTestDaemon, testDir, type Test } from './helpers/in-process.ts'
import { changeSettings, quietAroundNow } from './helpers/settings.ts'
import { waitFor } from './helpers/wait-for.ts'

const MiB = 1024 * 1024
const devnet = await startTestDevnet(t)
const creator = devnetWallet(t, devnet, devnet.accounts.creator.privateKey)
// the source publishes the films and, a storage node without a monitor, replicates them to itself
const source = await startTestDaemon(t, daemonConfig(devnet, testDir(t, 'source'), ['custodian', 'storage']))
const film = await registerFilm({ custodian: source, creator, contractAddress: devnet.contractAddress, bytes: 2 * MiB })
const leaves = await childCids(source.helia, film.contentCid)

const blockUrl = (daemon: Daemon, cid: CID | string): string => `${daemon.url}${BLOCK_PATH.replace(':cid', String(cid))}`

/** Fetches blocks one after the other through the block route; the time it took. */
async function fetchBlocks(daemon: Daemon, cids: CID[]): Promise<{ ms: number; bytes: number }> {
  const started = performance.now()
  let bytes = 0
  for (const cid of cids) {
    const response = await fetch(blockUrl(daemon, cid))
    if (response.status !== 200) throw new Error(`GET block ${cid}: ${response.status}`)
    bytes += (await response.arrayBuffer()).byteLength
  }
  return { ms: performance.now() - started, bytes }
}

/** A fresh player box connected to `to`, holding nothing, so everything it reads comes from `to` over bitswap. */
async function freshPeer(t: Test, name: string, to: Daemon): Promise<Daemon> {
  return await startTestDaemon(t, daemonConfig(devnet, testDir(t, name), ['player'], to.multiaddrs()))
}

await waitFor('the source to hold its own film as a replica', async () => await isPinned(source.helia, film.contentCid), {
  timeoutMs: 30_000
})

t.test('the block route serves a held block raw, and nothing else', async t => {
  const response = await fetch(blockUrl(source, leaves[0]))
  t.equal(response.status, 200)
  t.equal(response.headers.get('content-type'), 'application/vnd.ipld.raw')
  t.same(Buffer.from(await response.arrayBuffer()), Buffer.from(await blockBytes(source.helia, leaves[0])), 'the block’s bytes')
  const unknown = CID.parse('bafkreigh2akiscaildcqabsyg3dfr6chu3fgpregiymsck7e7aqa4s52zy')
  t.equal((await rawRequest(blockUrl(source, unknown))).status, 404, 'a block not held: 404')
  t.equal((await rawRequest(blockUrl(source, 'not-a-cid!'))).status, 400, 'not a CID: 400')
})

t.test('quiet hours: the box serves no peer by any path, then serves again', async t => {
  const peer = await freshPeer(t, 'quiet-peer', source)
  const before = source.peerServing.figures()
  await changeSettings(source, s => {
    s.replication.quietHours = quietAroundNow()
  })
  // the later subtests need the source serving, whatever happens here
  t.teardown(() =>
    changeSettings(source, s => {
      s.replication.quietHours = null
    })
  )
  t.ok(source.peerServing.quietHours.quiet(), 'quiet now')
  const refused = await fetch(blockUrl(source, leaves[0]))
  t.equal(refused.status, 503, 'the block route refuses')
  t.equal(refused.headers.get('retry-after'), '60', 'and says when to ask again')
  t.match(await refused.text(), /quiet hours/)
  await t.rejects(
    peer.helia.content.readBytes(film.contentCid, { signal: AbortSignal.timeout(3000) }),
    'bitswap serves the peer nothing in 3 s'
  )
  const during = source.peerServing.figures()
  t.equal(during.servedBytes, before.servedBytes, 'not a byte served')
  t.ok(during.refusedBlocks > before.refusedBlocks, `${during.refusedBlocks - before.refusedBlocks} requests refused`)

  const challenge = await postJson(`${source.url}${CHALLENGE_PATH}`, {
    cid: film.contentCid.toString(),
    blocks: [leaves[1].toString()],
    deadline: new Date(Date.now() + 10_000).toISOString()
  })
  t.equal(challenge.status, 200, 'a challenge is answered in quiet hours too')
  t.ok(typeof challenge.json.blocks[0] === 'string')

  await changeSettings(source, s => {
    s.replication.quietHours = null
  })
  t.notOk(source.peerServing.quietHours.quiet())
  t.equal((await rawRequest(blockUrl(source, leaves[0]))).status, 200, 'the block route serves again')
  const bytes = await peer.helia.content.readBytes(film.contentCid, { signal: AbortSignal.timeout(30_000) })
  t.equal(bytes.byteLength, (await source.helia.content.readBytes(film.contentCid)).byteLength, 'bitswap serves the peer again')
  t.ok(source.peerServing.figures().servedBytes - during.servedBytes >= 2 * MiB, 'and the bytes count as served')
})

t.test('quiet hours: a storage node fetches nothing for others until they end', async t => {
  const node = await startTestDaemon(t, daemonConfig(devnet, testDir(t, 'quiet-node'), ['storage'], source.multiaddrs()))
  await changeSettings(node, s => {
    s.replication.quietHours = quietAroundNow()
  })
  await waitFor('the quiet node to list the film as assigned', async () => (await node.replicator!.status()).assigned >= 2, {
    timeoutMs: 30_000
  })
  await node.replicator!.reconcile()
  let status = await node.replicator!.status()
  t.equal(status.met, 0, 'assigned but not fetched in quiet hours')
  t.notOk(await isPinned(node.helia, film.contentCid))
  await changeSettings(node, s => {
    s.replication.quietHours = null
  })
  await waitFor('the node to fetch its share once quiet hours end', async () => await isPinned(node.helia, film.contentCid), {
    timeoutMs: 30_000
  })
  status = await node.replicator!.status()
  t.equal(status.missing, 0)
  t.ok(status.held.includes(film.contentCid.toString()))
})

t.test('the upload cap paces what the box serves, through the block route and bitswap', async t => {
  const uncapped = await fetchBlocks(source, leaves)
  const cap = 512 * 1024
  await changeSettings(source, s => {
    s.replication.uploadCapBytesPerSec = cap
  })
  t.teardown(() =>
    changeSettings(source, s => {
      s.replication.uploadCapBytesPerSec = 0
    })
  )
  // the bucket holds one second of the cap: everything past it waits for the rate
  const minimumMs = (bytes: number): number => ((bytes - cap) / cap) * 1000 * 0.9
  const capped = await fetchBlocks(source, leaves)
  t.comment(`block route: ${capped.bytes} bytes in ${Math.round(uncapped.ms)} ms uncapped, ${Math.round(capped.ms)} ms at ${cap} B/s`)
  t.ok(capped.ms >= minimumMs(capped.bytes), `capped took ${Math.round(capped.ms)} ms, at least ${Math.round(minimumMs(capped.bytes))}`)

  const peer = await freshPeer(t, 'capped-peer', source)
  const started = performance.now()
  await pinWithProgress(peer.helia, film.contentCid, { signal: AbortSignal.timeout(60_000) })
  const bitswapMs = performance.now() - started
  t.comment(`bitswap: the film's ${capped.bytes} bytes of leaves pinned by a peer in ${Math.round(bitswapMs)} ms at ${cap} B/s`)
  t.ok(bitswapMs >= minimumMs(capped.bytes), `bitswap took ${Math.round(bitswapMs)} ms, at least ${Math.round(minimumMs(capped.bytes))}`)
})

t.test('while the box streams to its own screen, peers get at most the streaming rate', async t => {
  const db = await openStateDb(testDir(t, 'throttle'))
  t.teardown(() => db.close())
  const settings = createSettingsStore(db)
  await settings.put({ ...DEFAULT_SETTINGS, replication: { ...DEFAULT_SETTINGS.replication, uploadCapBytesPerSec: 0 } })
  const serving = await createPeerServing(settings)
  t.teardown(() => serving.close())
  let streams = 0
  serving.setActiveStreams(() => streams)
  const paceMs = async (bytes: number): Promise<number> => {
    const started = performance.now()
    for (let sent = 0; sent < bytes; sent += MiB) await serving.pace(MiB)
    return performance.now() - started
  }
  const idle = await paceMs(3 * MiB)
  streams = 1
  const streaming = await paceMs(3 * MiB)
  t.comment(`3 MiB to peers: ${Math.round(idle)} ms idle, ${Math.round(streaming)} ms while streaming`)
  t.ok(idle < 500, 'no cap, no stream: no wait')
  t.ok(streaming >= ((3 * MiB - STREAMING_PEER_BYTES_PER_SEC) / STREAMING_PEER_BYTES_PER_SEC) * 1000 * 0.9, 'throttled while streaming')
})

t.test('a challenge is answered with the blocks held, null for one deleted, and is bounded', async t => {
  const holderDir = testDir(t, 'challenged')
  const holder = await startTestDaemon(t, daemonConfig(devnet, holderDir, ['storage'], source.multiaddrs()))
  await waitFor('the holder to replicate the film', async () => await isPinned(holder.helia, film.contentCid), { timeoutMs: 30_000 })
  const asked = { cid: film.contentCid.toString(), blocks: leaves.map(String), deadline: new Date(Date.now() + 10_000).toISOString() }
  const whole = await postJson(`${holder.url}${CHALLENGE_PATH}`, asked)
  t.equal(whole.status, 200, whole.body.slice(0, 200))
  for (const [i, leaf] of leaves.entries()) {
    t.same(Buffer.from(whole.json.blocks[i], 'base64'), Buffer.from(await blockBytes(source.helia, leaf)), `block ${i} as held`)
  }
  // Helia refuses to delete a pinned block: the file goes from the disk, as a failing or dishonest node loses it
  const { dir, file } = new NextToLast().encode(leaves[1])
  await rm(path.join(holderDir, 'helia', 'blocks', dir, file))
  const answer = await postJson(`${holder.url}${CHALLENGE_PATH}`, asked)
  t.equal(answer.status, 200)
  t.equal(answer.json.blocks[1], null, 'the deleted block is answered null')
  t.type(answer.json.blocks[0], 'string', 'the others are still answered')
  const tooMany = await postJson(`${holder.url}${CHALLENGE_PATH}`, {
    ...asked,
    blocks: Array(MAX_CHALLENGE_BLOCKS + 1).fill(leaves[0].toString())
  })
  t.equal(tooMany.status, 400, `more than ${MAX_CHALLENGE_BLOCKS} blocks: 400`)
  t.equal(
    (await postJson(`${holder.url}${CHALLENGE_PATH}`, { ...asked, deadline: 'soon' })).status,
    400,
    'a deadline that is not a time: 400'
  )
})
