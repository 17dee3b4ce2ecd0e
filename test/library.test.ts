// The box's library lifecycle on real parts (devnet, custodian and box daemons in this process):
// an unreachable custodian, pin progress, a sale and a purchase again, the chain RPC going away, a
// restart in the middle of a pin.
import t from 'tap'
import net from 'node:net'
import type { CID } from 'multiformats/cid'
import type { Daemon } from '../server/daemon.ts'
import type { FilmRecord } from '../server/library/film-record.ts'
import type { LibraryFilmView } from '../server/library/routes.ts'
import { MAX_LISTENERS, MAX_LISTENERS_PER_ADDRESS } from '../server/library/events-route.ts'
import { openStateDb, section, type Store } from '../server/storage/state-db.ts'
import { isPinned } from '../server/storage/content.ts'
import { blockBytes, childCids } from './helpers/blocks.ts'
import { freePort } from './helpers/daemon-process.ts'
import { devnetWallet, startTestDevnet } from './helpers/devnet.ts'
import { buyFilm, registerFilm, transferFilm, type HandMadeFilm } from './helpers/films.ts'
import { getJson, libraryFilm, listenToEvents, rawRequest } from './helpers/http.ts'
import { signedInCookie } from './helpers/owner-session.ts'
import { daemonConfig, startTestDaemon, testDir } from './helpers/in-process.ts'
import { waitFor } from './helpers/wait-for.ts'

const devnetDir = testDir(t, 'devnet')
let devnet = await startTestDevnet(t, { stateDir: devnetDir })
const { contractAddress } = devnet
const creator = devnetWallet(t, devnet, devnet.accounts.creator.privateKey)
const owner = devnetWallet(t, devnet, devnet.accounts.owner.privateKey)
const custodian = await startTestDaemon(t, { ...daemonConfig(devnet, testDir(t, 'custodian'), ['custodian']), chainPollMs: 100 })
let boxConfig = { ...daemonConfig(devnet, testDir(t, 'box'), ['player'], custodian.multiaddrs()), chainPollMs: 100, unpinGraceMs: 300 }
let box: Daemon = await startTestDaemon(t, boxConfig)
const screen = await signedInCookie(box.url, owner)

const MiB = 1024 * 1024
const publish = async (opts: { bytes?: number; custodianUrl?: string } = {}): Promise<HandMadeFilm> =>
  await registerFilm({ custodian, creator, contractAddress, ...opts })

/** Polls the box's library until `check` accepts the film; every state seen on the way is kept in `seen`. */
async function waitForFilm(
  tokenId: string,
  what: string,
  check: (film: LibraryFilmView) => boolean,
  opts: { timeoutMs?: number; seen?: LibraryFilmView[] } = {}
): Promise<LibraryFilmView> {
  let last: LibraryFilmView | undefined
  return await waitFor(
    `film ${tokenId}: ${what}`,
    async () => {
      last = await libraryFilm(box.url, tokenId, screen)
      if (last !== undefined) opts.seen?.push(last)
      return last !== undefined && check(last) && last
    },
    { timeoutMs: opts.timeoutMs ?? 20_000, intervalMs: 25, lastSeen: () => last }
  )
}

/** Closes the box and starts it again on the same data dir (for the rest of the file, not one subtest). */
async function restartBox(whileDown?: () => Promise<void>): Promise<void> {
  await box.close()
  await whileDown?.()
  box = await startTestDaemon(t, boxConfig)
}

/** Starts the devnet again on the same port and state (for the rest of the file, not one subtest). */
async function restartDevnet(port: number): Promise<void> {
  devnet = await startTestDevnet(t, { port, stateDir: devnetDir })
}

const isReady = (film: LibraryFilmView): boolean => film.state === 'ready'

async function stream(tokenId: string, range?: string): Promise<{ status: number; body: Buffer }> {
  const response = await fetch(`${box.url}/api/films/${tokenId}/stream`, { headers: range === undefined ? screen : { ...screen, range } })
  return { status: response.status, body: Buffer.from(await response.arrayBuffer()) }
}

// the box's own state database sections (box changes at each restart)
const records = (): Store<'films'> => section(box.db, 'films')
const filmKeys = (): Store<'film-keys'> => section(box.db, 'film-keys')

/**
 * Takes the last leaf block of a file out of the custodian's blockstore, so a box pinning the file
 * stalls just before the end; the returned function puts it back (idempotent).
 *
 * Helia tells peers waiting for a block that it has it before the block is stored, so a want the
 * box sent earlier misses the block put back; on a new connection the box sends its wants again.
 */
async function withholdLastLeaf(cid: CID): Promise<() => Promise<void>> {
  const { helia } = custodian
  const leaf = (await childCids(helia, cid)).at(-1)
  if (leaf === undefined) throw new Error(`${cid} has no leaves to withhold`)
  const bytes = await blockBytes(helia, leaf)
  await helia.blockstore.delete(leaf)
  return async () => {
    await helia.blockstore.put(leaf, bytes)
    if (box.helia.libp2p.status !== 'started') return
    await box.helia.libp2p.hangUp(helia.libp2p.peerId)
    await box.helia.libp2p.dial(helia.libp2p.getMultiaddrs())
  }
}

/** The film of the first subtest: the second sells it while another film's pin is stuck. */
let firstFilm: HandMadeFilm

t.test('a custodian that cannot be reached: the film shows the error, then becomes ready by itself', async t => {
  // the film's metadata sends devices to a port nothing listens on yet; later a relay to the custodian opens there
  const relayPort = await freePort()
  const relayUrl = `http://127.0.0.1:${relayPort}`
  const film = (firstFilm = await publish({ custodianUrl: relayUrl }))
  await buyFilm(owner, contractAddress, film.tokenId)

  const failed = await waitForFilm(film.tokenId, 'the error state', f => f.state === 'error')
  t.match(failed.error, relayUrl, `the error names the custodian: ${failed.error}`)
  t.match(failed.error, /cannot be reached/)
  t.equal((await stream(film.tokenId)).status, 409, 'no playback before the film is ready')

  const sockets = new Set<net.Socket>()
  const relay = net.createServer(socket => {
    const upstream = net.connect(Number(new URL(custodian.url).port), '127.0.0.1')
    for (const end of [socket, upstream]) {
      sockets.add(end)
      end.on('error', () => {
        socket.destroy()
        upstream.destroy()
      })
      end.on('close', () => sockets.delete(end))
    }
    socket.pipe(upstream).pipe(socket)
  })
  await new Promise<void>(resolve => relay.listen(relayPort, '127.0.0.1', resolve))
  t.teardown(async () => {
    for (const socket of sockets) socket.destroy() // the box keeps its connection alive
    await new Promise(resolve => relay.close(resolve))
  })
  const openedAt = Date.now()

  const ready = await waitForFilm(film.tokenId, 'ready after the retry', isReady, { timeoutMs: 15_000 })
  t.comment(`ready ${Date.now() - openedAt} ms after the custodian became reachable`)
  t.equal(ready.error, undefined, 'the error is gone')
  t.equal(ready.progress, 1)
  const played = await stream(film.tokenId)
  t.equal(played.status, 200)
  t.ok(played.body.equals(film.plaintext), 'the stream is the plaintext')
})

t.test('pin progress is reported while pinning, and the content ends up pinned', async t => {
  const film = await publish({ bytes: 6 * MiB + 12_345 })
  const release = await withholdLastLeaf(film.contentCid)
  t.teardown(release) // a stalled pin would hold up every film after it
  await buyFilm(owner, contractAddress, film.tokenId)

  const pinning = await waitForFilm(film.tokenId, 'the pinning state', f => f.state === 'pinning')
  t.ok(pinning.progress >= 0 && pinning.progress < 1, `progress ${pinning.progress} while pinning`)
  // six of seven leaves are held: what the library reports should say so while the last one is missing
  const stalled = await waitForFilm(film.tokenId, 'progress past half', f => f.progress >= 0.5, { timeoutMs: 5000 })
  t.equal(stalled.state, 'pinning', 'still pinning without the last block')
  t.ok(stalled.progress < 1, `progress ${stalled.progress} stays under 1 without the last block`)
  t.notOk(await isPinned(box.helia, film.contentCid), 'not pinned before the last block arrives')

  // films are worked on one at a time, but a sale must not wait behind a pin that is stuck
  await transferFilm(owner, devnet.accounts.otherCollector.address, contractAddress, firstFilm.tokenId)
  await waitForFilm(firstFilm.tokenId, 'the film sold during the stalled pin to lock', f => f.state === 'locked', { timeoutMs: 5000 })
  t.equal(await filmKeys().get(firstFilm.tokenId), undefined, 'its key is erased at once')
  t.equal((await stream(firstFilm.tokenId, 'bytes=0-99')).status, 403)

  // nor does a film bought meanwhile wait behind it to be listed by its title
  const queued = await publish({ bytes: 64 * 1024 })
  await buyFilm(owner, contractAddress, queued.tokenId)
  const listed = await waitForFilm(queued.tokenId, 'its title', f => f.title === 'Hand-made test film', { timeoutMs: 5000 })
  t.equal(listed.state, 'pending', 'listed by its title while it waits its turn')
  t.equal((await libraryFilm(box.url, film.tokenId, screen))?.state, 'pinning', 'the stuck pin is still under way')

  await release()
  await waitForFilm(queued.tokenId, 'the film bought meanwhile to be ready', isReady)
  const ready = await waitForFilm(film.tokenId, 'ready', isReady)
  t.equal(ready.progress, 1)
  t.ok(await isPinned(box.helia, film.contentCid), 'the content CID is pinned on the box')
  const range = await stream(film.tokenId, 'bytes=1000000-3000000')
  t.equal(range.status, 206)
  t.ok(range.body.equals(film.plaintext.subarray(1_000_000, 3_000_001)), 'a range across leaves decrypts to the plaintext')
})

t.test('a sale locks the film, erases its key and unpins it after the grace; buying again brings it back', async t => {
  const film = await publish({ bytes: 2 * MiB })
  await buyFilm(owner, contractAddress, film.tokenId)
  await waitForFilm(film.tokenId, 'ready', isReady)
  const keyBefore = await filmKeys().get(film.tokenId)
  t.ok(keyBefore !== undefined, 'the wrapped key is kept while owned')
  t.equal((await stream(film.tokenId, 'bytes=0-99')).status, 206)

  await transferFilm(owner, devnet.accounts.otherCollector.address, contractAddress, film.tokenId)
  const locked = await waitForFilm(film.tokenId, 'locked', f => f.state === 'locked', { timeoutMs: 5000 })
  t.equal(locked.quantity, '0')
  t.equal(await filmKeys().get(film.tokenId), undefined, 'the wrapped key is erased')
  t.equal((await stream(film.tokenId, 'bytes=0-99')).status, 403, 'the stream is refused')

  let record: FilmRecord | undefined
  await waitFor(
    'the record to say unpinned',
    async () => {
      record = await records().get(film.tokenId)
      return record?.unpinned === true
    },
    { timeoutMs: 5000, intervalMs: 50, lastSeen: () => record }
  )
  t.equal(record?.unpinned, true, 'the record says unpinned')
  t.ok(Date.now() - Date.parse(record?.lockedAt ?? '') >= boxConfig.unpinGraceMs, 'not before the grace period')
  t.notOk(await isPinned(box.helia, film.contentCid), 'the content is no longer pinned')
  t.equal((await libraryFilm(box.url, film.tokenId, screen))?.state, 'locked')

  await buyFilm(owner, contractAddress, film.tokenId)
  const ready = await waitForFilm(film.tokenId, 'ready again', isReady)
  t.equal(ready.error, undefined)
  const keyAfter = await filmKeys().get(film.tokenId)
  t.ok(keyAfter !== undefined, 'a key is kept again')
  t.not(keyAfter?.wrappedKey.ciphertext, keyBefore?.wrappedKey.ciphertext, 'a newly wrapped key')
  t.ok(await isPinned(box.helia, film.contentCid), 'pinned again')
  const played = await stream(film.tokenId)
  t.equal(played.status, 200)
  t.ok(played.body.equals(film.plaintext), 'the stream plays again')
})

t.test('with the chain RPC down the library keeps playing, across a restart; sync resumes when it is back', async t => {
  const film = await publish({ bytes: 300_000 })
  await buyFilm(owner, contractAddress, film.tokenId)
  await waitForFilm(film.tokenId, 'ready', isReady)
  const rpcPort = Number(new URL(devnet.rpcUrl).port)

  await devnet.close()
  const range = 'bytes=100000-200000'
  const expected = film.plaintext.subarray(100_000, 200_001)
  t.equal((await libraryFilm(box.url, film.tokenId, screen))?.state, 'ready', 'still ready with the RPC down')
  let played = await stream(film.tokenId, range)
  t.equal(played.status, 206)
  t.ok(played.body.equals(expected), 'the stream has the right bytes')

  await restartBox()
  const status = await getJson<{ chainId: number }>(`${box.url}/api/status`)
  t.equal(status.chainId, devnet.chainId, 'the box starts on the chain id it remembers')
  t.equal((await libraryFilm(box.url, film.tokenId, screen))?.state, 'ready', 'ready after a restart without the chain')
  played = await stream(film.tokenId, range)
  t.equal(played.status, 206)
  t.ok(played.body.equals(expected), 'the restarted box streams the right bytes')

  await restartDevnet(rpcPort)
  t.equal(devnet.rpcUrl, boxConfig.chain.rpcUrl, 'the devnet is back at the same URL')
  const later = await publish()
  await buyFilm(owner, contractAddress, later.tokenId)
  await waitForFilm(later.tokenId, 'a purchase made after the chain came back', isReady)
  t.ok((await stream(later.tokenId)).body.equals(later.plaintext), 'and it plays')
})

t.test('a restart in the middle of a pin resumes it without an error', async t => {
  const film = await publish({ bytes: 6 * MiB })
  const release = await withholdLastLeaf(film.contentCid)
  t.teardown(release) // a stalled pin would hold up every film after it
  await buyFilm(owner, contractAddress, film.tokenId)
  const seen: LibraryFilmView[] = []
  await waitForFilm(film.tokenId, 'the pinning state', f => f.state === 'pinning', { seen })

  await restartBox(async () => {
    const db = await openStateDb(boxConfig.dataDir)
    const left = await section(db, 'films').get(film.tokenId)
    await db.close()
    t.equal(left?.state, 'pinning', 'the interrupted pin is left as pinning')
    t.equal(left?.error, undefined, 'with no error recorded')
    await release()
  })
  const ready = await waitForFilm(film.tokenId, 'ready after the restart', isReady, { seen })
  t.equal(ready.progress, 1)
  t.same(
    seen.filter(f => f.state === 'error'),
    [],
    'never in the error state'
  )
  t.ok(await isPinned(box.helia, film.contentCid), 'the content is pinned')
  const played = await stream(film.tokenId)
  t.equal(played.status, 200)
  t.ok(played.body.equals(film.plaintext), 'the stream equals the plaintext')
})

t.test('a pin that no peer can finish gives up with a clear error and completes once the block is back', async t => {
  boxConfig = { ...boxConfig, pinStallMs: 1000 }
  await restartBox()
  const film = await publish({ bytes: 3 * MiB })
  const release = await withholdLastLeaf(film.contentCid)
  t.teardown(release)
  await buyFilm(owner, contractAddress, film.tokenId)

  const stalled = await waitForFilm(film.tokenId, 'the stall to be reported', f => f.state === 'error')
  t.match(stalled.error, /pinning stalled: no block arrived for 1 s/)
  t.notOk(await isPinned(box.helia, film.contentCid), 'not pinned without the last block')

  await release()
  const ready = await waitForFilm(film.tokenId, 'ready on the retry', isReady, { timeoutMs: 20_000 })
  t.equal(ready.error, undefined)
  t.ok(await isPinned(box.helia, film.contentCid), 'pinned once the block is back')
})

t.test(
  'listening screens hear of a purchase once the library lists it; a bounded number of listeners; closing the box ends their streams',
  async t => {
    const eventsUrl = `${box.url}/api/library/events`
    const tv = await listenToEvents(eventsUrl, screen)
    t.teardown(tv.close)
    t.equal(tv.status, 200)

    // the library is idle here: the events that follow are the purchase's
    const film = await publish({ bytes: 64 * 1024 })
    await buyFilm(owner, contractAddress, film.tokenId)
    await waitForFilm(film.tokenId, 'listed', () => true)
    t.ok((await tv.waitForMore('change', 0)) > 0, 'the film listed, the screen heard of it')
    await waitForFilm(film.tokenId, 'ready', isReady)

    // from several client addresses: one address holds only MAX_LISTENERS_PER_ADDRESS (security-events.test.ts)
    const others = await Promise.all(
      Array.from(
        { length: MAX_LISTENERS - 1 },
        async (_, i) =>
          await listenToEvents(eventsUrl, screen, { localAddress: `127.0.0.${2 + Math.floor(i / MAX_LISTENERS_PER_ADDRESS)}` })
      )
    )
    t.teardown(() => others.forEach(other => other.close()))
    t.same(
      others.map(other => other.status),
      others.map(() => 200),
      `${MAX_LISTENERS} listeners are taken`
    )
    const refused = await rawRequest(eventsUrl, { headers: screen })
    t.equal(refused.status, 503, 'one more is refused')
    t.match(JSON.parse(refused.body), { code: 'SEED_TOO_MANY_LISTENERS' })
    others[0].close()
    const next = await waitFor(
      'a place to free up',
      async () => {
        const listener = await listenToEvents(eventsUrl, screen)
        if (listener.status === 200) return listener
        listener.close()
        return false
      },
      { timeoutMs: 5000 }
    )
    t.teardown(next.close)
    t.pass('a listener that leaves frees its place')

    await restartBox()
    await tv.ended
    t.pass('closing the box ended the streams of the screens still listening')
  }
)
