// Play while pinning, on real parts (devnet, custodian and box daemons, bitswap between their Helia
// nodes): a film whose pin is stuck part way plays at once, the blocks at each position fetched
// from the custodian ahead of the pin; a position no peer can serve fails in time with a clear error;
// the pin then completes.
import t from 'tap'
import type { CID } from 'multiformats/cid'
import type { Daemon } from '../server/daemon.ts'
import { DEFAULT_LEAF_SIZE, isPinned } from '../server/storage/content.ts'
import { DEFAULT_CHUNK_SIZE, HEADER_LENGTH, TAG_LENGTH } from '../server/sealing/format.ts'
import { blockBytes, childCids } from './helpers/blocks.ts'
import { devnetWallet, startTestDevnet } from './helpers/devnet.ts'
import { buyFilm, registerFilm } from './helpers/films.ts'
import { libraryFilm } from './helpers/http.ts'
import { daemonConfig, startTestDaemon, testDir } from './helpers/in-process.ts'
import { signedInCookie } from './helpers/owner-session.ts'
import { waitFor } from './helpers/wait-for.ts'

const FETCH_TIMEOUT_MS = 2_000
const devnet = await startTestDevnet(t)
const creator = devnetWallet(t, devnet, devnet.accounts.creator.privateKey)
const owner = devnetWallet(t, devnet, devnet.accounts.owner.privateKey)
const custodian = await startTestDaemon(t, daemonConfig(devnet, testDir(t, 'custodian'), ['custodian']))
const box: Daemon = await startTestDaemon(t, {
  ...daemonConfig(devnet, testDir(t, 'box'), ['player'], custodian.multiaddrs()),
  playbackFetchTimeoutMs: FETCH_TIMEOUT_MS
})
const screen = await signedInCookie(box.url, owner)

/** Plaintext bytes whose sealed chunks all lie in leaf block `leaf` of the sealed film. */
function rangeInLeaf(leaf: number): { start: number; end: number } {
  const sealedChunk = DEFAULT_CHUNK_SIZE + TAG_LENGTH
  const firstChunk = Math.ceil((leaf * DEFAULT_LEAF_SIZE - HEADER_LENGTH) / sealedChunk)
  const lastChunk = Math.floor(((leaf + 1) * DEFAULT_LEAF_SIZE - HEADER_LENGTH) / sealedChunk) - 1
  return { start: firstChunk * DEFAULT_CHUNK_SIZE, end: (lastChunk + 1) * DEFAULT_CHUNK_SIZE - 1 }
}

async function stream(tokenId: string, range: string): Promise<{ status: number; body: Buffer; contentType: string | null }> {
  const response = await fetch(`${box.url}/api/films/${tokenId}/stream`, { headers: { ...screen, range } })
  return { status: response.status, body: Buffer.from(await response.arrayBuffer()), contentType: response.headers.get('content-type') }
}

const boxHolds = async (cid: CID): Promise<boolean> => await box.helia.blockstore.has(cid)

t.test('a film whose pin is stuck plays at once, each position fetched first; the pin then completes', async t => {
  // 20 MiB: 21 leaf blocks. The custodian withholds leaves 1-16, so the pin (16 blocks in flight)
  // holds leaf 0 and waits on those sixteen: leaves 17-20 are never asked for by the pin.
  const film = await registerFilm({ custodian, creator, contractAddress: devnet.contractAddress, bytes: 20 * 1024 * 1024 })
  const leaves = await childCids(custodian.helia, film.contentCid)
  t.equal(leaves.length, 21)
  const withheld = [...leaves.slice(1, 17), leaves[18]]
  const kept = await Promise.all(withheld.map(async cid => ({ cid, bytes: await blockBytes(custodian.helia, cid) })))
  for (const { cid } of kept) await custodian.helia.blockstore.delete(cid)
  const putBack = async (): Promise<void> => {
    for (const { cid, bytes } of kept) if (!(await custodian.helia.blockstore.has(cid))) await custodian.helia.blockstore.put(cid, bytes)
  }
  t.teardown(putBack)

  await buyFilm(owner, devnet.contractAddress, film.tokenId)
  const pinning = await waitFor('the pin to hold the first leaf and wait on the withheld ones', async () => {
    const view = await libraryFilm(box.url, film.tokenId, screen)
    return view?.state === 'pinning' && view.progress > 0 && view
  })
  t.equal(pinning.playable, true, 'the library offers Play while pinning')
  t.same(pinning.storage.local, 'pinning')
  t.notOk(await boxHolds(leaves[20]), 'the last leaf is not on the box before playback asks for it')

  let asked = Date.now()
  const end = await stream(film.tokenId, 'bytes=-1000')
  t.comment(`the end of the film, fetched from the custodian while pinning: ${Date.now() - asked} ms`)
  t.equal(end.status, 206, 'a Range at the end of the film is answered')
  t.ok(end.body.equals(film.plaintext.subarray(-1000)), 'with the right plaintext')
  t.ok(await boxHolds(leaves[20]), 'the blocks fetched for playback are kept for the pin')

  const { start, end: last } = rangeInLeaf(17)
  t.notOk(await boxHolds(leaves[17]), 'leaf 17 is not on the box before the seek')
  asked = Date.now()
  const seek = await stream(film.tokenId, `bytes=${start}-${last}`)
  t.comment(`a seek to leaf 17 (${last - start + 1} bytes): ${Date.now() - asked} ms`)
  t.equal(seek.status, 206, 'a seek to a new position is answered')
  t.ok(seek.body.equals(film.plaintext.subarray(start, last + 1)), 'with the plaintext at that position')

  const missing = rangeInLeaf(18)
  asked = Date.now()
  const timedOut = await stream(film.tokenId, `bytes=${missing.start}-${missing.end}`)
  t.equal(timedOut.status, 504, 'a position no peer can send fails with 504')
  t.match(timedOut.contentType, /^application\/json/, 'answered as an error, not as a film')
  t.equal(JSON.parse(timedOut.body.toString()).code, 'SEED_FILM_BLOCKS_TIMEOUT')
  t.ok(Date.now() - asked >= FETCH_TIMEOUT_MS, 'after the fetch timeout')

  const stillPinning = await libraryFilm(box.url, film.tokenId, screen)
  t.equal(stillPinning?.state, 'pinning', 'the pin goes on meanwhile')
  t.notOk(await isPinned(box.helia, film.contentCid), 'and has not completed')

  // Helia tells waiting peers it has a block before storing it, so a reconnection resends the box's wants
  await putBack()
  await box.helia.libp2p.hangUp(custodian.helia.libp2p.peerId)
  await box.helia.libp2p.dial(custodian.helia.libp2p.getMultiaddrs())
  const ready = await waitFor('the pin to complete', async () => {
    const view = await libraryFilm(box.url, film.tokenId, screen)
    return view?.state === 'ready' && view
  })
  t.same(ready.storage.local, 'ready')
  t.ok(await isPinned(box.helia, film.contentCid), 'the content is pinned')
  const whole = await fetch(`${box.url}/api/films/${film.tokenId}/stream`, { headers: screen })
  t.ok(Buffer.from(await whole.arrayBuffer()).equals(film.plaintext), 'the whole film plays from the box')
})
