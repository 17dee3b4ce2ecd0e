// Unbounded reads (issue 11, finding 7), tried as an attacker would. A creator publishes films whose
// DAG disagrees with what the film declares, on its own node (the custodian daemon, a real Helia node
// that serves its blocks over its block route and bitswap), and a collector's box buys them: the box
// must refuse each with an error naming the film and the reason, having stored nothing past the bound.
// The same for DAGs handed to a pin directly (too deep, a block linked twice, leaves longer than
// listed), and for a hostile HTTP server that answers the monitor's block fetch with an endless body.
import t from 'tap'
import http from 'node:http'
import Fastify from 'fastify'
import { randomBytes } from 'node:crypto'
import type { AddressInfo } from 'node:net'
import * as raw from 'multiformats/codecs/raw'
import type { CID } from 'multiformats/cid'
import { pairAsOwner } from '../server/demo.ts'
import type { FilmRecord } from '../server/library/film-record.ts'
import { MAX_METADATA_BYTES, parseFilmMetadata, type FilmMetadata } from '../server/library/film-metadata.ts'
import { DEFAULT_CHUNK_SIZE, sealedLength } from '../server/sealing/format.ts'
import { fetchBlockFrom } from '../server/monitor/block-fetch.ts'
import { startChallenger } from '../server/monitor/challenger.ts'
import { createNodeStore } from '../server/monitor/node-store.ts'
import type { RegistryNode } from '../server/wire/monitor-protocol.ts'
import { addFile, pinWithProgress } from '../server/storage/content.ts'
import { MAX_BLOCK_BYTES, MAX_DEPTH, MAX_LINKS } from '../server/wire/dag-bounds.ts'
import { openStateDb, section } from '../server/storage/state-db.ts'
import { blockBytes, childCids, putBlock, putFileNode } from './helpers/blocks.ts'
import { devnetWallet, startTestDevnet } from './helpers/devnet.ts'
import { buyFilm, registerFilm, type RegisterFilmOptions } from './helpers/films.ts'
import { daemonConfig, startTestDaemon, testDir, type Test } from './helpers/in-process.ts'
import { waitFor } from './helpers/wait-for.ts'

const KiB = 1024
const MiB = 1024 * KiB
const devnet = await startTestDevnet(t)
const { contractAddress } = devnet
const creator = devnetWallet(t, devnet, devnet.accounts.creator.privateKey)
const owner = devnetWallet(t, devnet, devnet.accounts.owner.privateKey)
// the hostile creator's own node: it holds the key and serves the blocks it made
const custodian = await startTestDaemon(t, daemonConfig(devnet, testDir(t, 'custodian'), ['custodian']))
const box = await startTestDaemon(t, daemonConfig(devnet, testDir(t, 'box'), ['player'], custodian.multiaddrs()))
await pairAsOwner(box.url, owner)
const films = section(box.db, 'films')

/** Registers a film made as `made` says, buys it, and waits until the box has either pinned it or given up on it: its record. */
async function buyHostileFilm(made: Partial<RegisterFilmOptions>): Promise<FilmRecord> {
  const film = await registerFilm({ custodian, creator, contractAddress, ...made })
  await buyFilm(owner, contractAddress, film.tokenId)
  return await waitFor(
    `film ${film.tokenId} to be ready or refused`,
    async () => {
      const record = await films.get(film.tokenId)
      return (record?.state === 'ready' || record?.state === 'error') && record
    },
    { timeoutMs: 60_000 }
  )
}

/** Bytes of `cids` the box holds. */
async function boxHolds(cids: CID[]): Promise<number> {
  let bytes = 0
  for (const cid of cids) if (await box.helia.blockstore.has(cid)) bytes += (await blockBytes(box.helia, cid)).byteLength
  return bytes
}

t.test('a film whose root links one block thousands of times is refused before the block is fetched', async t => {
  let leaf: CID | undefined
  const record = await buyHostileFilm({
    addContent: async (helia, sealed) => {
      leaf = await putBlock(helia, raw.code, sealed)
      const links = Array.from({ length: 5000 }, () => ({ cid: leaf as CID, bytes: sealed.length }))
      return await putFileNode(helia, links)
    }
  })
  t.equal(record.state, 'error', 'the film is not pinned')
  t.match(record.error, `"Hand-made test film" (film ${record.tokenId})'s content`, 'the error names the film')
  t.match(record.error, `has 5000 links, more than ${MAX_LINKS}`, 'and the reason')
  t.equal(await boxHolds([leaf as CID]), 0, 'the linked block was never fetched')
})

t.test('a film whose DAG holds more than its sealedBytes is refused at the root, its leaves never fetched', async t => {
  let root: CID | undefined
  let declared = 0
  const record = await buyHostileFilm({
    addContent: async (helia, sealed) => {
      declared = sealed.length
      // the sealed film, then 6 MiB more in the same file: the metadata still says sealed.length
      root = await addFile(
        helia,
        (async function* () {
          yield sealed
          yield randomBytes(6 * MiB)
        })()
      )
      return root
    }
  })
  const leaves = await childCids(custodian.helia, root as CID)
  t.equal(record.state, 'error', 'the film is not pinned')
  t.match(record.error, `film ${record.tokenId})'s content`, 'the error names the film')
  t.match(record.error, `holds ${declared + 6 * MiB} bytes where exactly ${declared} are declared`, 'and the reason')
  t.equal(await boxHolds(leaves), 0, `none of its ${leaves.length} leaves is on the box`)
})

t.test('metadata JSON past the cap is refused without being read', async t => {
  const record = await buyHostileFilm({ extraMetadata: { padding: 'x'.repeat(MiB) } })
  t.equal(record.state, 'error', 'the film is not pinned')
  t.ok(record.metadata === undefined, 'no metadata was taken')
  t.match(record.error, `film ${record.tokenId}'s metadata`, 'the error names the film')
  t.match(record.error, `more than the ${MAX_METADATA_BYTES} allowed`, 'and the reason')
})

t.test('metadata whose sealedBytes is not what its sealing makes of its plaintext is refused', async t => {
  const cid = (await putBlock(custodian.helia, raw.code, randomBytes(KiB))).toString()
  const plaintextBytes = 5 * KiB
  const honest = sealedLength(plaintextBytes, DEFAULT_CHUNK_SIZE)
  const metadata = (sealedBytes: number): Uint8Array =>
    new TextEncoder().encode(
      JSON.stringify({
        schema: 'seed-one/film-metadata/v1',
        title: 'Bigger inside',
        synopsis: '',
        durationSeconds: 1,
        contentClass: 'production',
        content: {
          cid,
          sealedBytes,
          plaintextBytes,
          mimeType: 'video/mp4',
          sealing: { format: 'seed-one/sealed/v1', cipher: 'aes-256-gcm', chunkSize: DEFAULT_CHUNK_SIZE },
          audio: []
        },
        poster: { cid, mimeType: 'image/jpeg' },
        subtitles: [],
        custodian: { url: custodian.url, peerId: custodian.identity.deviceId }
      } satisfies FilmMetadata)
    )
  t.equal(parseFilmMetadata(metadata(honest)).content.sealedBytes, honest, 'the sealed size of its plaintext is taken')
  t.throws(() => parseFilmMetadata(metadata(honest + 6 * MiB)), {
    name: 'MetadataError',
    message: `/content/sealedBytes is not the sealed size of ${plaintextBytes} bytes in chunks of ${DEFAULT_CHUNK_SIZE}`
  })
})

/** Pins `root`, made on the creator's node, on the box, as the replicator and the library pin a film's content of `bytes`. */
async function pinOnBox(root: CID, bytes: number): Promise<void> {
  const unhint = box.helia.fetcher.hintHolder([root], custodian.url)
  try {
    await pinWithProgress(box.helia, root, {
      bound: { what: 'film 99’s content', bytes, exact: true },
      signal: AbortSignal.timeout(30_000)
    })
  } finally {
    unhint()
  }
}

t.test('a DAG that links one block twice, with sizes that add up, is refused', async t => {
  const leaf = await putBlock(custodian.helia, raw.code, randomBytes(KiB))
  const middle = await putFileNode(custodian.helia, [{ cid: leaf, bytes: KiB }])
  const root = await putFileNode(
    custodian.helia,
    Array.from({ length: 1000 }, () => ({ cid: middle, bytes: KiB }))
  )
  await t.rejects(pinOnBox(root, 1000 * KiB), { name: 'DagBoundsError', message: `links block ${middle} more than once` })
  t.equal(await boxHolds([middle, leaf]), 0, 'the block linked twice was never fetched')
})

t.test('a DAG deeper than the bound is refused, pinned or read', async t => {
  const leaf = await putBlock(custodian.helia, raw.code, randomBytes(KiB))
  let root = leaf
  for (let level = 0; level <= MAX_DEPTH; level++) root = await putFileNode(custodian.helia, [{ cid: root, bytes: KiB }])
  await t.rejects(pinOnBox(root, KiB), { name: 'DagBoundsError', message: `more than ${MAX_DEPTH} links deep` })
  t.equal(await boxHolds([leaf]), 0, 'the leaf at the bottom was never fetched')
  const unhint = box.helia.fetcher.hintHolder([root], custodian.url)
  t.teardown(unhint)
  await t.rejects(box.helia.content.readBytes(root, { signal: AbortSignal.timeout(30_000) }), {
    name: 'DagBoundsError',
    message: `more than ${MAX_DEPTH} links deep`
  })
})

t.test('a DAG whose leaves hold more than their parent lists is refused', async t => {
  const leaf = await putBlock(custodian.helia, raw.code, randomBytes(4 * KiB))
  const root = await putFileNode(custodian.helia, [{ cid: leaf, bytes: KiB }])
  await t.rejects(pinOnBox(root, KiB), {
    name: 'DagBoundsError',
    message: `block ${leaf} holds ${4 * KiB} bytes where its parent lists ${KiB}`
  })
})

/** A hostile node's HTTP server: whatever is asked, it answers 200 with 64 MiB, a piece at a time for as long as the client reads. */
async function startEndlessServer(t: Test): Promise<{ apiUrl: string; total: number; sent(): number; closed(): boolean }> {
  const total = 64 * MiB
  let sent = 0
  let closed = false
  const server = http.createServer((request, response) => {
    request.resume()
    response.on('close', () => (closed = true))
    const piece = Buffer.alloc(64 * KiB, 0x20)
    const next = (): void => {
      if (closed || sent >= total) return void response.end()
      response.write(piece, () => {
        sent += piece.length
        setTimeout(next, 1)
      })
    }
    next()
  })
  await new Promise<void>(resolve => server.listen(0, '127.0.0.1', resolve))
  t.teardown(() => new Promise<void>(resolve => server.close(() => resolve())))
  const apiUrl = `http://127.0.0.1:${(server.address() as AddressInfo).port}`
  return { apiUrl, total, sent: () => sent, closed: () => closed }
}

t.test('a hostile block route answering an endless body to the monitor is cut off at the cap', async t => {
  const hostile = await startEndlessServer(t)
  const cid = await putBlock(custodian.helia, raw.code, randomBytes(KiB))
  const answer = await fetchBlockFrom(hostile.apiUrl, cid, { maxBytes: MAX_BLOCK_BYTES, signal: AbortSignal.timeout(30_000) })
  t.same(answer, { kind: 'wrong', reason: `block ${cid} is over ${MAX_BLOCK_BYTES} bytes` }, 'the answer is refused')
  await waitFor('the hostile server to see the connection closed', async () => hostile.closed() || hostile.sent() >= hostile.total)
  t.ok(hostile.sent() < 8 * MiB, `the monitor stopped reading near the cap: ${hostile.sent()} of ${hostile.total} bytes sent`)
})

t.test('a node answering a challenge with an endless body fails it, read no further than the cap', async t => {
  const hostile = await startEndlessServer(t)
  const db = await openStateDb(testDir(t, 'monitor'))
  t.teardown(() => db.close())
  const held = (await putBlock(custodian.helia, raw.code, randomBytes(KiB))).toString()
  const node: RegistryNode = {
    deviceId: 'hostile-node',
    apiUrl: hostile.apiUrl,
    multiaddrs: [],
    roles: ['storage'],
    lastReportAt: new Date().toISOString(),
    live: true,
    replicating: true,
    quotaBytes: MiB,
    replicaBytes: KiB,
    held: [held],
    failed: [],
    score: 1
  }
  const challenger = startChallenger({
    store: createNodeStore(db),
    registry: async () => [node],
    intervalMs: 24 * 60 * 60 * 1000,
    blocksPerChallenge: 3,
    proof: { deadlineMs: 30_000, msPerBlock: 0, checks: 3 },
    failuresBeforeFailed: 2,
    log: Fastify().log // fastify's silent logger
  })
  t.teardown(() => challenger.close())
  const outcome = await challenger.challenge(node.deviceId)
  t.equal(outcome?.passed, false, 'the node fails')
  t.match(outcome?.reason, /^answered more than \d+ bytes$/, 'for the size of its answer')
  await waitFor('the hostile server to see the connection closed', async () => hostile.closed() || hostile.sent() >= hostile.total)
  t.ok(hostile.sent() < 16 * MiB, `the monitor stopped reading near the cap: ${hostile.sent()} of ${hostile.total} bytes sent`)
})
