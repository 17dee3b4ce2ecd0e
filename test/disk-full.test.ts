// The box's data disk running out of room, on a size-limited tmpfs mounted as its data directory (the
// tests run as root): a film that does not fit (its renditions counted) is refused before it fills the
// disk, one cut short by a disk that something else filled stops with the reason, the box keeps playing
// what it holds, the state database reopens with everything it acknowledged, and the pins complete
// once there is room.
import t from 'tap'
import { execFile } from 'node:child_process'
import { mkdtemp, rm, writeFile } from 'node:fs/promises'
import os from 'node:os'
import path from 'node:path'
import { promisify } from 'node:util'
import { CID } from 'multiformats/cid'
import { Key } from 'interface-datastore'
import type { Daemon } from '../server/daemon.ts'
import type { LibraryFilmView } from '../server/library/routes.ts'
import { DISK_RESERVE_BYTES, freeBytes } from '../server/storage/disk-space.ts'
import { isPinned } from '../server/storage/content.ts'
import { parseFilmMetadata } from '../server/library/film-metadata.ts'
import { filmParts } from '../server/library/film-parts.ts'
import { blockBytes } from './helpers/blocks.ts'
import { devnetWallet, startTestDevnet } from './helpers/devnet.ts'
import { buyFilm, registerFilm, type HandMadeFilm } from './helpers/films.ts'
import { getJson, libraryFilm, rawRequest, type RawResponse } from './helpers/http.ts'
import { daemonConfig, startTestDaemon, testDir } from './helpers/in-process.ts'
import { signedInCookie, signInAsOwner } from './helpers/owner-session.ts'
import { waitFor } from './helpers/wait-for.ts'

const run = promisify(execFile)
const MiB = 1024 * 1024

// outside the checkout: a mount left behind by a killed run must not sit in the working tree
const boxDir = await mkdtemp(path.join(os.tmpdir(), 'seed-one-disk-full-'))
await run('mount', ['-t', 'tmpfs', '-o', 'size=130m,mode=0700', 'tmpfs', boxDir])
t.teardown(async () => {
  await run('umount', ['--lazy', boxDir])
  await rm(boxDir, { recursive: true, force: true })
})
const resize = async (size: string): Promise<void> => {
  await run('mount', ['-o', `remount,size=${size}`, boxDir])
}

const devnet = await startTestDevnet(t)
const { contractAddress } = devnet
const creator = devnetWallet(t, devnet, devnet.accounts.creator.privateKey)
const owner = devnetWallet(t, devnet, devnet.accounts.owner.privateKey)
const custodian = await startTestDaemon(t, daemonConfig(devnet, testDir(t, 'custodian'), ['custodian']))
const boxConfig = { ...daemonConfig(devnet, boxDir, ['player'], custodian.multiaddrs()), chainPollMs: 100, pinStallMs: 10_000 }
let box: Daemon = await startTestDaemon(t, boxConfig)
const screen = await signedInCookie(box.url, owner)

async function buyNewFilm(bytes: number, renditionBytes?: { low: number }): Promise<HandMadeFilm> {
  const film = await registerFilm({ custodian, creator, contractAddress, bytes, renditionBytes })
  await buyFilm(owner, contractAddress, film.tokenId)
  return film
}

async function waitForFilm(film: HandMadeFilm, what: string, check: (view: LibraryFilmView) => boolean): Promise<LibraryFilmView> {
  let seen: LibraryFilmView | undefined
  return await waitFor(
    `film ${film.tokenId} ${what}`,
    async () => {
      seen = await libraryFilm(box.url, film.tokenId, screen)
      return seen !== undefined && check(seen) && seen
    },
    { timeoutMs: 90_000, lastSeen: () => seen }
  )
}

async function streamsCorrectly(film: HandMadeFilm): Promise<boolean> {
  const from = Math.floor(film.plaintext.length / 3)
  const response = await fetch(`${box.url}/api/films/${film.tokenId}/stream`, {
    headers: { ...screen, range: `bytes=${from}-${from + MiB - 1}` }
  })
  const body = Buffer.from(await response.arrayBuffer())
  return response.status === 206 && body.equals(film.plaintext.subarray(from, from + MiB))
}

const mine = {
  storageQuotaBytes: 3 * 1024 * MiB,
  replication: { enabled: false, uploadCapBytesPerSec: 0, quietHours: null },
  developerMode: true
}
const { headers } = await signInAsOwner(box.url, owner)
const saved = await rawRequest(`${box.url}/api/settings`, {
  method: 'PUT',
  headers: { ...headers, 'content-type': 'application/json' },
  body: JSON.stringify(mine)
})
if (saved.status !== 200) throw new Error(`PUT /api/settings: ${saved.status} ${saved.body}`)

const small = await buyNewFilm(6 * MiB)
await waitForFilm(small, 'ready', view => view.state === 'ready')

t.test('a film larger than the room left, its renditions counted, is refused before it takes any, and pins once there is room', async t => {
  const before = await freeBytes(boxDir)
  // its content alone would fit: 30 MiB with the 64 MiB reserve in the ~124 MiB left
  const big = await buyNewFilm(30 * MiB, { low: 50 * MiB })
  const refused = await waitForFilm(big, 'refused', view => view.state === 'error')
  t.match(refused.error, /not enough disk space: 8\d MiB more are needed, \d+ MiB are free and 64 MiB are kept/, refused.error ?? '')
  t.ok(before - (await freeBytes(boxDir)) < 4 * MiB, 'nothing of it was written')
  t.equal((await getJson(`${box.url}/api/status`)).paired, true, 'the box carries on')
  t.ok(await streamsCorrectly(small), 'the film it holds plays')

  await resize('256m')
  await waitForFilm(big, 'ready after a retry', view => view.state === 'ready')
  t.ok(await streamsCorrectly(big), 'and plays')
  const metadata = parseFilmMetadata(await custodian.helia.content.readBytes(CID.parse(big.metadataCid)))
  for (const part of filmParts(big.metadataCid, metadata))
    t.ok(await isPinned(box.helia, CID.parse(part.cid)), `its ${part.name} is pinned`)
  t.ok((await freeBytes(boxDir)) >= DISK_RESERVE_BYTES, 'the reserve is left free')
})

/** Takes a block out of the custodian's blockstore; the function returned puts it back and has the box ask again. */
async function withholdBlock(cid: CID): Promise<() => Promise<void>> {
  const bytes = await blockBytes(custodian.helia, cid)
  await custodian.helia.blockstore.delete(cid)
  return async () => {
    await custodian.helia.blockstore.put(cid, bytes)
    // a want sent before the block was back is not answered: on a new connection the box sends its wants again
    await box.helia.libp2p.hangUp(custodian.helia.libp2p.peerId)
    await box.helia.libp2p.dial(custodian.helia.libp2p.getMultiaddrs())
  }
}

t.test('a disk filled by something else during a pin: a clear state, the box keeps playing, the pin completes later', async t => {
  const film = await registerFilm({ custodian, creator, contractAddress, bytes: 16 * MiB })
  // the box passes the room check, then waits for the content's first block while the disk fills up
  const release = await withholdBlock(film.contentCid)
  await buyFilm(owner, contractAddress, film.tokenId)
  await waitForFilm(film, 'pinning', view => view.state === 'pinning')
  const filler = path.join(boxDir, 'filler')
  await writeFile(filler, Buffer.alloc((await freeBytes(boxDir)) - 4 * MiB))
  await release()

  const stopped = await waitForFilm(film, 'stopped by the full disk', view => view.state === 'error')
  // ENOSPC from the blockstore, or (when the block fetch swallowed it) the room check made when the pin stalled
  t.match(stopped.error, /the disk is full: .*ENOSPC|not enough disk space/, stopped.error ?? '')
  t.ok(await streamsCorrectly(small), 'the box still plays what it holds')

  await rm(filler)
  await waitForFilm(film, 'ready once there is room', view => view.state === 'ready')
  t.ok(await streamsCorrectly(film))
})

t.test('a change the full disk refuses: changes are refused until there is room, then kept across a restart', async t => {
  const putSettings = async (settings: typeof mine): Promise<RawResponse> =>
    await rawRequest(`${box.url}/api/settings`, {
      method: 'PUT',
      headers: { ...headers, 'content-type': 'application/json' },
      body: JSON.stringify(settings)
    })
  const filler = path.join(boxDir, 'filler')
  await writeFile(filler, Buffer.alloc((await freeBytes(boxDir)) + MiB)).catch(() => {}) // ENOSPC: full to the last byte
  t.teardown(() => rm(filler, { force: true }))
  // the state database's log may still have a few bytes of room on its last page
  let refused: RawResponse | undefined
  for (let i = 0; i < 200 && refused === undefined; i++) {
    const answer = await putSettings({ ...mine, storageQuotaBytes: mine.storageQuotaBytes + i * MiB })
    if (answer.status !== 200) refused = answer
  }
  const full = /the disk is full: the database at .* takes no changes until \d+ MiB are free again/
  t.equal(refused?.status, 507, `a change is refused once the disk is full, as Insufficient Storage: ${refused?.body}`)
  t.match(JSON.parse(refused?.body ?? '{}'), { code: 'SEED_DISK_FULL', message: full })
  const again = await putSettings(mine)
  t.equal(again.status, 507, 'and the next one, though the failed write may have left a few bytes of room')
  t.match(JSON.parse(again.body), { code: 'SEED_DISK_FULL', message: full })

  // Helia's datastore (pins, peers) is a LevelDB too
  const { datastore } = box.helia
  await t.rejects(async () => await datastore.put(new Key('/disk-full/refused'), new Uint8Array(64 * 1024)), 'Helia refuses a record too')

  await rm(filler)
  const kept = { ...mine, developerMode: false }
  t.equal((await putSettings(kept)).status, 200, 'with room again a change is taken')
  await datastore.put(new Key('/disk-full/kept'), new Uint8Array([1, 2, 3]))
  await box.close()
  box = await startTestDaemon(t, boxConfig)
  t.same(await getJson(`${box.url}/api/settings`), kept, 'and it is still there after a restart')
  t.same(await box.helia.datastore.get(new Key('/disk-full/kept')), new Uint8Array([1, 2, 3]), "and so is Helia's record")
  t.equal((await putSettings(mine)).status, 200)
})

t.test('after a restart the state database holds everything it acknowledged', async t => {
  await box.close()
  box = await startTestDaemon(t, boxConfig)
  const status = await getJson(`${box.url}/api/status`, screen)
  t.equal(status.owner, owner.address, 'the owner, and the session of its screen')
  t.same(await getJson(`${box.url}/api/settings`), mine, 'the settings')
  const films = await getJson<{ films: LibraryFilmView[] }>(`${box.url}/api/library`, screen)
  t.same(
    films.films.map(film => film.state),
    ['ready', 'ready', 'ready'],
    'every film ready'
  )
  t.ok(await streamsCorrectly(small), 'and playing')
})
