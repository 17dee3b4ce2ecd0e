// Sealed content damaged on the box's disk (issue 6): a byte flipped in a chunk or in the header, a
// leaf block cut short or missing, two chunks swapped. Real parts: a devnet, a custodian and a box
// daemon with Helia, the real stream route. The damage is done to the box's block files, as a failing
// disk would do it: the box reads its own blocks without hashing them again, so the chunks' AEAD tags
// are what must catch it. Whatever the damage, no byte of a damaged chunk and no wrong byte is sent;
// a body that cannot be finished is cut (the connection closes), never ended cleanly short; a range
// that starts in damaged content is answered with an error status before any byte; the error is
// logged naming the film and the chunk; and the box goes on serving other films.
import t from 'tap'
import path from 'node:path'
import { readFile, truncate, unlink, writeFile } from 'node:fs/promises'
import { NextToLast } from 'blockstore-fs/sharding'
import type { CID } from 'multiformats/cid'
import { DEFAULT_CHUNK_SIZE, HEADER_LENGTH, TAG_LENGTH, sealedLength } from '../server/sealing/format.ts'
import { DEFAULT_LEAF_SIZE } from '../server/storage/content.ts'
import { childCids } from './helpers/blocks.ts'
import { devnetWallet, startTestDevnet } from './helpers/devnet.ts'
import { buyFilm, registerFilm, type HandMadeFilm } from './helpers/films.ts'
import { libraryFilms, streamRequest, type StreamResponse } from './helpers/http.ts'
import { signedInCookie } from './helpers/owner-session.ts'
import { daemonConfig, startTestDaemon, testDir, type Test } from './helpers/in-process.ts'
import { waitFor } from './helpers/wait-for.ts'

// The production chunk and leaf sizes: 40 chunks (the last one short) in three leaves, so that chunk
// 15 straddles leaves 0 and 1 and chunk 31 leaves 1 and 2.
const CS = DEFAULT_CHUNK_SIZE
const LEAF = DEFAULT_LEAF_SIZE
const SEALED_CHUNK = CS + TAG_LENGTH
const LENGTH = 40 * CS - 1000
const LAST = 39
const SEALED = sealedLength(LENGTH, CS)
/** Sealed offset of chunk k. */
const chunkAt = (k: number): number => HEADER_LENGTH + k * SEALED_CHUNK
/** The chunk that holds sealed byte `offset`. */
const chunkOf = (offset: number): number => Math.floor((offset - HEADER_LENGTH) / SEALED_CHUNK)
/** The first and last chunks with sealed bytes in leaf block `leaf`. */
const chunksIn = (leaf: number): { first: number; last: number } => ({
  first: chunkOf(leaf * LEAF),
  last: chunkOf(Math.min((leaf + 1) * LEAF, SEALED) - 1)
})
const FETCH_TIMEOUT_MS = 2000

const devnet = await startTestDevnet(t)
const { contractAddress } = devnet
const creator = devnetWallet(t, devnet, devnet.accounts.creator.privateKey)
const owner = devnetWallet(t, devnet, devnet.accounts.owner.privateKey)
const custodianDir = testDir(t, 'custodian')
const custodian = await startTestDaemon(t, daemonConfig(devnet, custodianDir, ['custodian']))
const boxDir = testDir(t, 'box')
type LogEntry = { level: number; msg: string; err?: { message: string }; req?: { url: string } }
const log: LogEntry[] = []
const box = await startTestDaemon(
  t,
  { ...daemonConfig(devnet, boxDir, ['player'], custodian.multiaddrs()), playbackFetchTimeoutMs: FETCH_TIMEOUT_MS },
  { logLevel: 'warn', logStream: { write: line => log.push(JSON.parse(line) as LogEntry) } }
)
const screen = await signedInCookie(box.url, owner)

// one film for each damage, since the box keeps a film's header once it has opened it
const NAMES = [
  'chunk',
  'last chunk',
  'magic',
  'version',
  'cipher id',
  'chunk size',
  'plaintext length',
  'salt',
  'cut mid-chunk',
  'last chunk cut',
  'swapped',
  'missing',
  'healthy'
] as const
type Film = HandMadeFilm & { leaves: CID[] }
const films = {} as Record<(typeof NAMES)[number], Film>
for (const name of NAMES) {
  const film = await registerFilm({ custodian, creator, contractAddress, bytes: LENGTH })
  await buyFilm(owner, contractAddress, film.tokenId)
  films[name] = { ...film, leaves: [] }
}
await waitFor(
  'every film pinned on the box',
  async () => {
    const listed = await libraryFilms(box.url, screen)
    return Object.values(films).every(film => listed.find(entry => entry.tokenId === film.tokenId)?.state === 'ready')
  },
  { timeoutMs: 75_000 }
)
for (const film of Object.values(films)) film.leaves = await childCids(box.helia, film.contentCid)
t.equal(films.healthy.leaves.length, 3, 'a film of three leaf blocks')

/** The file that holds a block in a daemon's blockstore (createStorageNode: <dataDir>/helia/blocks, next-to-last sharding). */
function blockFile(dataDir: string, cid: CID): string {
  const { dir, file } = new NextToLast().encode(cid)
  return path.join(dataDir, 'helia', 'blocks', dir, file)
}

/** Rewrites, in place on the box's disk, the leaf block holding sealed byte `offset`; `change` gets it and where the offset lies in it. */
async function alterLeaf(film: Film, offset: number, change: (bytes: Buffer, at: number) => void): Promise<void> {
  const file = blockFile(boxDir, film.leaves[Math.floor(offset / LEAF)])
  const bytes = await readFile(file)
  change(bytes, offset % LEAF)
  await writeFile(file, bytes)
}

async function flipByte(film: Film, offset: number, mask: number): Promise<void> {
  await alterLeaf(film, offset, (bytes, at) => {
    bytes[at] ^= mask
  })
}

/** GET (or HEAD) plaintext bytes start..end: the whole film is asked for without a Range header. */
async function stream(film: Film, start: number, end: number, method = 'GET'): Promise<StreamResponse> {
  const whole = start === 0 && end === LENGTH - 1
  return await streamRequest(
    `${box.url}/api/films/${film.tokenId}/stream`,
    whole ? screen : { ...screen, range: `bytes=${start}-${end}` },
    method
  )
}

/** The film's headers, as sent before the body. */
function checkHeaders(t: Test, res: StreamResponse, start: number, end: number, what: string): void {
  t.equal(res.status, start === 0 && end === LENGTH - 1 ? 200 : 206, `${what}: status`)
  t.equal(res.headers['content-type'], 'video/mp4', `${what}: content-type`)
  t.equal(res.headers['cache-control'], 'no-store', `${what}: cache-control`)
  t.equal(res.headers['content-length'], String(end - start + 1), `${what}: content-length`)
  if (res.status === 206) t.equal(res.headers['content-range'], `bytes ${start}-${end}/${LENGTH}`, `${what}: content-range`)
}

async function expectWhole(t: Test, film: Film, start: number, end: number, what: string): Promise<void> {
  const res = await stream(film, start, end)
  checkHeaders(t, res, start, end, what)
  t.ok(res.complete && res.body.equals(film.plaintext.subarray(start, end + 1)), `${what}: the exact plaintext, ended cleanly`)
}

/** Bytes start..end cross damage from chunk `firstBad` on: what arrives is correct plaintext from before that chunk, then the connection is cut. */
async function expectCut(t: Test, film: Film, start: number, end: number, firstBad: number, cause: RegExp, what: string): Promise<void> {
  const logged = log.length
  const res = await stream(film, start, end)
  checkHeaders(t, res, start, end, what)
  t.notOk(res.complete, `${what}: the body is cut, not ended cleanly`)
  t.ok(res.body.length <= firstBad * CS - start, `${what}: ${res.body.length} bytes arrived, none of chunk ${firstBad} or after`)
  t.ok(res.body.equals(film.plaintext.subarray(start, start + res.body.length)), `${what}: every byte that arrived is the plaintext`)
  const entry = await waitFor(
    `${what}: the failure logged`,
    async () => log.slice(logged).find(entry => entry.level >= 50 && entry.req?.url === `/api/films/${film.tokenId}/stream`),
    { timeoutMs: 10_000 }
  )
  t.match(entry.msg, /film stream failed/, `${what}: logged as a failed stream`)
  t.match(entry.err?.message, cause, `${what}: the log names the film and the cause`)
}

/** Bytes start..end begin in damaged content: an error status before any byte of the film, and the error logged. */
async function expectRefused(t: Test, film: Film, start: number, end: number, status: number, cause: RegExp, what: string): Promise<void> {
  const logged = log.length
  const res = await stream(film, start, end)
  t.equal(res.status, status, `${what}: answered ${status}`)
  t.match(res.headers['content-type'], /^application\/json/, `${what}: with a JSON error`)
  t.equal(res.headers['content-range'], undefined, `${what}: and none of the film's headers`)
  t.ok(res.complete, `${what}: the error is a whole answer`)
  t.match(JSON.parse(res.body.toString('utf8')), { statusCode: status, message: cause }, `${what}: the error says why`)
  const entry = log.slice(logged).find(entry => entry.level >= 50 && entry.req?.url === `/api/films/${film.tokenId}/stream`)
  t.match(entry?.err?.message, cause, `${what}: the error is logged with the film's URL`)
  t.equal((await stream(film, start, end, 'HEAD')).status, status, `${what}: a HEAD is answered ${status} too`)
}

/** The damage between chunks firstBad and lastBad: every kind of range around it. */
interface Damage {
  firstBad: number
  lastBad: number
  /** The status of a range that starts in the damage. */
  status: number
  /** What the error says, for the first bad chunk. */
  cause: RegExp
  /** A range that ends inside the first bad chunk before its damaged byte, which must not be sent either. */
  endsBeforeFlip?: boolean
}

async function checkAround(t: Test, film: Film, damage: Damage): Promise<void> {
  const { firstBad, lastBad, status, cause } = damage
  const badStart = firstBad * CS
  const badEnd = Math.min((lastBad + 1) * CS, LENGTH) - 1
  await expectCut(t, film, 0, LENGTH - 1, firstBad, cause, 'the whole film')
  await expectWhole(t, film, 0, badStart - 1, 'a range that ends before the damage')
  await expectCut(t, film, badStart - 1000, badEnd, firstBad, cause, 'a range that starts before the damage')
  await expectRefused(t, film, badStart + 10, badEnd, status, cause, 'a range that starts inside the damage')
  if (damage.endsBeforeFlip === true) {
    await expectRefused(t, film, badStart + 1, badStart + 50, status, cause, 'a range that ends in the bad chunk before its bad byte')
  }
  if (lastBad < LAST) await expectWhole(t, film, badEnd + 1, LENGTH - 1, 'a range after the damage')
}

const failedChunk = (film: Film, k: number): RegExp =>
  new RegExp(`sealed film ${film.contentCid}: chunk ${k} of 0\\.\\.${LAST} failed authentication`)
const unreadableChunk = (film: Film, k: number): RegExp =>
  new RegExp(`sealed film ${film.contentCid}: reading chunk ${k} of 0\\.\\.${LAST}: `)

t.test('one byte flipped in a chunk that straddles two leaves, in its second leaf', async t => {
  const film = films.chunk
  const flip = chunkAt(15) + CS - 6 // a ciphertext byte near the end of chunk 15
  t.equal(Math.floor(flip / LEAF), 1, 'the flipped byte is in leaf 1, the start of its chunk in leaf 0')
  t.equal(chunkOf(flip), 15)
  await flipByte(film, flip, 0x01)
  await checkAround(t, film, { firstBad: 15, lastBad: 15, status: 500, cause: failedChunk(film, 15), endsBeforeFlip: true })
})

t.test('one byte flipped in the last chunk', async t => {
  const film = films['last chunk']
  await flipByte(film, chunkAt(LAST) + 100, 0x80)
  await checkAround(t, film, { firstBad: LAST, lastBad: LAST, status: 500, cause: failedChunk(film, LAST), endsBeforeFlip: true })
})

t.test('two chunks swapped', async t => {
  const film = films.swapped
  t.equal(Math.floor(chunkAt(18) / LEAF), Math.floor((chunkAt(20) - 1) / LEAF), 'chunks 18 and 19 lie in one leaf')
  await alterLeaf(film, chunkAt(18), (bytes, at) => {
    const first = Buffer.from(bytes.subarray(at, at + SEALED_CHUNK))
    bytes.copy(bytes, at, at + SEALED_CHUNK, at + 2 * SEALED_CHUNK)
    first.copy(bytes, at + SEALED_CHUNK)
  })
  await checkAround(t, film, { firstBad: 18, lastBad: 19, status: 500, cause: failedChunk(film, 18) })
})

t.test('a leaf block cut short in the middle of a chunk', async t => {
  const film = films['cut mid-chunk']
  // leaf 1 ends half way through chunk 20: every chunk with bytes in leaf 1 is unreadable
  await truncate(blockFile(boxDir, film.leaves[1]), chunkAt(20) + CS / 2 - LEAF)
  const { first, last } = chunksIn(1)
  t.same([first, last], [15, 31])
  await checkAround(t, film, { firstBad: first, lastBad: last, status: 500, cause: unreadableChunk(film, first) })
})

t.test('the last leaf block cut short inside the last chunk', async t => {
  const film = films['last chunk cut']
  await truncate(blockFile(boxDir, film.leaves[2]), SEALED - 2 * LEAF - 30)
  const { first, last } = chunksIn(2)
  t.same([first, last], [31, LAST])
  await checkAround(t, film, { firstBad: first, lastBad: last, status: 500, cause: unreadableChunk(film, first) })
})

t.test('a leaf block missing, on the box and on its peers', async t => {
  const film = films.missing
  await unlink(blockFile(boxDir, film.leaves[1]))
  await unlink(blockFile(custodianDir, film.leaves[1]))
  const { first, last } = chunksIn(1)
  // the box asks its peers for the block, waits FETCH_TIMEOUT_MS, then gives up
  await checkAround(t, film, { firstBad: first, lastBad: last, status: 504, cause: /did not arrive within 2 s/ })
})

t.test('one byte of the header changed', async t => {
  const cases: Array<{ name: (typeof NAMES)[number]; offset: number; mask: number; cause: RegExp }> = [
    { name: 'magic', offset: 0, mask: 0x20, cause: /header: bad magic/ },
    { name: 'version', offset: 8, mask: 0x02, cause: /header: unsupported version 3/ },
    { name: 'cipher id', offset: 9, mask: 0x03, cause: /chunk \d+ of 0\.\.39 failed authentication/ }, // 2 → 1 (or 1 → 2 for an AES film), the other AEAD
    { name: 'chunk size', offset: 15, mask: 0x01, cause: /chunk \d+ of 0\.\.39 failed authentication/ }, // 65 537: still 40 chunks
    { name: 'plaintext length', offset: 23, mask: 0x01, cause: /header describes a sealed object of/ },
    { name: 'salt', offset: 40, mask: 0x80, cause: /chunk \d+ of 0\.\.39 failed authentication/ }
  ]
  for (const { name, offset, mask, cause } of cases) {
    const film = films[name]
    await flipByte(film, offset, mask)
    const named = new RegExp(`sealed film ${film.contentCid}: .*${cause.source}`)
    for (const [start, end] of [
      [0, LENGTH - 1],
      [0, 0],
      [20 * CS + 5, 22 * CS],
      [LENGTH - 1, LENGTH - 1]
    ]) {
      await expectRefused(t, film, start, end, 500, named, `${name}, bytes ${start}-${end}`)
    }
  }
})

t.test('the box still serves an intact film, whole and in ranges', async t => {
  const film = films.healthy
  await expectWhole(t, film, 0, LENGTH - 1, 'the whole film')
  await expectWhole(t, film, 15 * CS - 10, 32 * CS + 10, 'a range across all three leaves')
  t.equal(log.filter(entry => entry.req?.url === `/api/films/${film.tokenId}/stream`).length, 0, 'nothing logged about it')
})
