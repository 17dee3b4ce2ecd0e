// kill -9 at random moments, 50 times (issue 6): `seed-one publish` while it publishes, then a player
// daemon while it pins and while it follows the chain. After each kill the stores open, nothing
// acknowledged is lost (a printed publish, a film shown ready, a synced block) and the work resumes:
// the publish completes without registering its film twice, pins complete, sync goes on from its
// last block. The kill moments come from a seeded PRNG; the seed is printed so a run can be replayed.
import t from 'tap'
import { execFile } from 'node:child_process'
import { randomInt } from 'node:crypto'
import { readdir } from 'node:fs/promises'
import os from 'node:os'
import path from 'node:path'
import { setTimeout as sleep } from 'node:timers/promises'
import { promisify } from 'node:util'
import * as dagPb from '@ipld/dag-pb'
import { FsBlockstore } from 'blockstore-fs'
import { LevelDatastore } from 'datastore-level'
import type { Contract } from 'ethers'
import { base36 } from 'multiformats/bases/base36'
import type { CID } from 'multiformats/cid'
import { sha256 } from 'multiformats/hashes/sha2'
import type { WatcherState } from '../server/chain/watcher.ts'
import { openCustodyStore } from '../server/keys/custody-store.ts'
import { metadataCidFromUri, parseFilmMetadata } from '../server/library/film-metadata.ts'
import { filmCids } from '../server/library/film-pinning.ts'
import type { PublishedFilm } from '../server/publish/publish-film.ts'
import { openStateDb, section, type StateDb } from '../server/storage/state-db.ts'
import { freePort, runCli, spawnCli, startDaemonProcess, type DaemonProcess } from './helpers/daemon-process.ts'
import { makeCustodianDataDir } from './helpers/in-process.ts'
import { connectDevnet, devnetCliFlags, devnetWallet, startTestDevnet } from './helpers/devnet.ts'
import { libraryFilms } from './helpers/http.ts'
import { signedInCookie } from './helpers/owner-session.ts'
import { startRpcProxy } from './helpers/rpc-proxy.ts'
import { waitFor } from './helpers/wait-for.ts'

const PUBLISH_CYCLES = 10
/** Films the player buys one after the other; each is killed twice: during its pin, then at a random moment. */
const PIN_FILMS = 10
const SYNC_CYCLES = 20
const PRICE_WEI = 1000n

// 50 kills and restarts of real processes: about 3 min alone on 2 cores, longer on a busy machine
t.setTimeout(600_000)

const seed = process.env.SEED_ONE_CRASH_SEED === undefined ? randomInt(2 ** 31) : Number(process.env.SEED_ONE_CRASH_SEED)
t.comment(`kill moments from seed ${seed}: SEED_ONE_CRASH_SEED=${seed} npx tap test/crash-cycles.test.ts draws the same ones`)

/** mulberry32: a small seeded PRNG, uniform in [0, 1). */
function prng(state: number): () => number {
  return () => {
    state = (state + 0x6d2b79f5) >>> 0
    let x = state
    x = Math.imul(x ^ (x >>> 15), x | 1)
    x ^= x + Math.imul(x ^ (x >>> 7), x | 61)
    return ((x ^ (x >>> 14)) >>> 0) / 2 ** 32
  }
}
const random = prng(seed)
const pick = <T>(items: T[]): T => items[Math.floor(random() * items.length)]!

const dir = t.testdir()
const devnet = await startTestDevnet(t)
const { owner, other, creator } = connectDevnet(t, devnet)
const ownerAddress = devnet.accounts.owner.address
const chainFlags = (rpcUrl: string): string[] => [...devnetCliFlags(devnet, rpcUrl), '--chain-poll-ms', '200']
const filmCount = async (): Promise<number> => Number(await creator.getFunction('filmCount')())

/**
 * A JSON-RPC relay in front of the devnet for the player, noting the first block of every eth_getLogs
 * it asks for: where its chain watcher resumed.
 */
async function startRpcRecorder(): Promise<{ url: string; logsFrom: number[] }> {
  const logsFrom: number[] = []
  const { url } = await startRpcProxy(t, devnet.rpcUrl, call => {
    if (call.method === 'eth_getLogs') logsFrom.push(Number(BigInt((call.params as Array<{ fromBlock: string }>)[0]!.fromBlock)))
  })
  return { url, logsFrom }
}

interface OpenedDataDir {
  db: StateDb
  blocks: FsBlockstore
  /** CIDs (base36) with a complete Helia pin. */
  pins: Set<string>
}

/** A killed daemon's data directory, opened from outside: its state database and Helia's stores. */
async function openDataDir<T>(dataDir: string, fn: (opened: OpenedDataDir) => Promise<T>): Promise<T> {
  const db = await openStateDb(dataDir)
  const blocks = new FsBlockstore(path.join(dataDir, 'helia', 'blocks'))
  const datastore = new LevelDatastore(path.join(dataDir, 'helia', 'datastore'))
  try {
    await blocks.open()
    await datastore.open()
    const pins = new Set<string>()
    for await (const key of datastore.queryKeys({ prefix: '/pin/' })) pins.add(key.toString().slice('/pin/'.length))
    return await fn({ db, blocks, pins })
  } finally {
    await datastore.close()
    await blocks.close()
    await db.close()
  }
}

async function blockBytes(blocks: FsBlockstore, cid: CID): Promise<Uint8Array> {
  const parts: Uint8Array[] = []
  for await (const part of blocks.get(cid)) parts.push(part)
  return Buffer.concat(parts)
}

/** What is missing of a film on disk: a pin, a block, or a block that no longer hashes to its CID. */
async function filmGaps({ blocks, pins }: OpenedDataDir, metadataUri: string): Promise<string[]> {
  const gaps: string[] = []
  let metadata
  try {
    metadata = parseFilmMetadata(await blockBytes(blocks, metadataCidFromUri(metadataUri)))
  } catch (err) {
    return [`${metadataUri}: metadata unreadable (${(err as Error).message})`]
  }
  for (const root of filmCids(metadataUri, metadata)) {
    if (!pins.has(root.toString(base36))) gaps.push(`${root}: not pinned`)
    const queue = [root]
    while (queue.length > 0) {
      const cid = queue.pop()!
      let bytes: Uint8Array
      try {
        bytes = await blockBytes(blocks, cid)
      } catch {
        gaps.push(`${cid} (under ${root}): missing`)
        continue
      }
      if (!Buffer.from((await sha256.digest(bytes)).bytes).equals(cid.multihash.bytes)) gaps.push(`${cid}: does not hash to its CID`)
      if (cid.code === dagPb.code) queue.push(...dagPb.decode(bytes).Links.map(link => link.Hash))
    }
  }
  return gaps
}

// --- publish -----------------------------------------------------------------------------------

const custodianDir = path.join(dir, 'custodian')
const custodianPort = await freePort()
await makeCustodianDataDir(custodianDir)
const clip = path.join(dir, 'noise.mp4')
// noise compresses badly: a 3 s clip makes a film of a few MiB, several 1 MiB blocks to pin
await promisify(execFile)('ffmpeg', [
  ...['-v', 'error', '-f', 'lavfi', '-i', 'testsrc2=size=480x270:rate=25:duration=3,noise=alls=60:allf=t+u'],
  ...['-c:v', 'libx264', '-preset', 'ultrafast', '-crf', '20', '-pix_fmt', 'yuv420p', '-g', '50', '-movflags', '+faststart', clip]
])
const publishArgs = (title: string): string[] => [
  'publish',
  clip,
  '--title',
  title,
  '--price-wei',
  String(PRICE_WEI),
  '--data-dir',
  custodianDir,
  '--custodian-url',
  `http://127.0.0.1:${custodianPort}`,
  // publish takes the chain flags it reads, not the daemons' polling interval
  ...devnetCliFlags(devnet)
]
/** The step publish was in, from its progress lines. */
// piped, publish prints a whole line per step and quarter of it (server/publish/progress-lines.ts)
const lastStep = (output: string): string => [...output.matchAll(/^(\w+) +\d+%$/gm)].at(-1)?.[1] ?? 'starting'
/** What publish printed last: its acknowledgement. */
const printedFilm = (output: string): PublishedFilm | undefined => {
  const line = output.split(/[\r\n]/).find(l => l.startsWith('{"tokenId"'))
  return line === undefined ? undefined : (JSON.parse(line) as PublishedFilm)
}
const acknowledged: PublishedFilm[] = []
const filmsBefore = await filmCount()

/** What is lost of the acknowledged films in the custodian's data directory. */
async function custodianGaps(): Promise<string[]> {
  return await openDataDir(custodianDir, async opened => {
    const published = section(opened.db, 'published')
    const custody = await openCustodyStore(custodianDir, opened.db)
    const gaps: string[] = []
    for (const film of acknowledged) {
      const kept = await published.get(film.tokenId)
      if (kept?.metadataCid !== film.metadataCid) gaps.push(`film ${film.tokenId}: published record ${JSON.stringify(kept)}`)
      if ((await custody.get(film.contentCid)) === undefined) gaps.push(`film ${film.tokenId}: no content key in custody`)
      gaps.push(...(await filmGaps(opened, `ipfs://${film.metadataCid}`)).map(gap => `film ${film.tokenId}: ${gap}`))
    }
    return gaps
  })
}

/** Pins in the custodian's data directory that belong to no acknowledged film. */
async function orphanPins(): Promise<number> {
  return await openDataDir(custodianDir, async ({ blocks, pins }) => {
    const owned = new Set<string>()
    for (const film of acknowledged) {
      const uri = `ipfs://${film.metadataCid}`
      const metadata = parseFilmMetadata(await blockBytes(blocks, metadataCidFromUri(uri)))
      for (const cid of filmCids(uri, metadata)) owned.add(cid.toString(base36))
    }
    return [...pins].filter(pin => !owned.has(pin)).length
  })
}

t.test(`publish: ${PUBLISH_CYCLES} kills`, async t => {
  const workDirsOf = async (pid: number | undefined): Promise<string[]> =>
    (await readdir(os.tmpdir())).filter(name => name.startsWith(`seed-one-publish-${pid}-`))
  let workDirsLeft = 0
  const started = Date.now()
  acknowledged.push(printedFilm(await runCli(publishArgs('Crash film 0'))) as PublishedFilm)
  const publishMs = Date.now() - started
  for (let cycle = 1; cycle <= PUBLISH_CYCLES; cycle++) {
    const title = `Crash film ${cycle}`
    const run = spawnCli(publishArgs(title))
    // every third kill waits for the registration to be mined: the moment a rerun could register the film again
    const count = await filmCount()
    const moment = cycle % 3 === 0 ? 'once registered' : Math.round(random() * publishMs)
    if (typeof moment === 'number') await Promise.race([sleep(moment), run.exited])
    else await waitFor('the registration', async () => run.child.exitCode !== null || (await filmCount()) > count, { intervalMs: 10 })
    run.child.kill('SIGKILL')
    await run.exited
    let film = printedFilm(run.output())
    const when = `${typeof moment === 'number' ? `${moment} ms in` : moment}, ${film === undefined ? `during ${lastStep(run.output())}` : 'after it printed its film'}`
    t.same(await custodianGaps(), [], `kill ${cycle} (${when}): acknowledged films intact`)
    if ((await workDirsOf(run.child.pid)).length > 0) workDirsLeft++
    film ??= printedFilm(await runCli(publishArgs(title)))
    t.equal(film?.title, title, `kill ${cycle}: the publish completes`)
    t.same(await workDirsOf(run.child.pid), [], `kill ${cycle}: no plaintext work directory of the killed run is left`)
    acknowledged.push(film as PublishedFilm)
    t.equal(await filmCount(), filmsBefore + acknowledged.length, `kill ${cycle}: one registration per acknowledged film`)
  }
  t.comment(`${workDirsLeft} killed runs left a plaintext work directory behind; the next run removed it`)
  t.same(printedFilm(await runCli(publishArgs('Crash film 0'))), acknowledged[0], 'rerunning a finished publish answers its film')
  t.equal(await filmCount(), filmsBefore + acknowledged.length, '… and registers nothing')
  t.equal(new Set(acknowledged.map(film => film.tokenId)).size, acknowledged.length, 'every publish has its own token')
  for (const film of acknowledged) t.equal(await creator.getFunction('uri')(film.tokenId), `ipfs://${film.metadataCid}`)
  t.same(await custodianGaps(), [], 'every acknowledged film is held, pinned and keyed')
  // not asserted: a gap left open (a kill in the middle of a preparation leaves what it pinned so far)
  t.comment(`${await orphanPins()} pins belong to no acknowledged film: left by kills during a preparation`)
})

// --- pinning and chain sync ------------------------------------------------------------------------

const recorder = await startRpcRecorder()
const boxDir = path.join(dir, 'box')
let custodian: DaemonProcess | undefined
let box: DaemonProcess | undefined
t.teardown(async () => {
  await box?.close()
  await custodian?.close()
})
/** How long each start of the player took until it served HTTP, for the closing figure. */
const startMs: number[] = []
async function startBox(): Promise<DaemonProcess> {
  const started = Date.now()
  const running = await startDaemonProcess([
    ...['--data-dir', boxDir, '--port', '0', '--p2p-listen', '/ip4/127.0.0.1/tcp/0'],
    ...['--peer', custodian!.multiaddrs[0]!, ...chainFlags(recorder.url)]
  ])
  startMs.push(Date.now() - started)
  return running
}

/** The owner's signed-in screen (its session outlives the player's restarts and kills: it is in the state database). */
let screen: Record<string, string> = {}

/** The films the library shows ready now: acknowledged to the owner as playable. */
async function readyFilms(): Promise<string[]> {
  return (await libraryFilms(box!.url, screen)).filter(film => film.state === 'ready').map(film => film.tokenId)
}

/** What is lost of films that were ready in the player's data directory. */
async function playerGaps(ready: string[]): Promise<string[]> {
  return await openDataDir(boxDir, async opened => {
    const records = section(opened.db, 'films')
    const gaps: string[] = []
    for (const tokenId of ready) {
      const record = await records.get(tokenId)
      if (record?.state !== 'ready') gaps.push(`film ${tokenId}: ${record?.state ?? 'no record'} instead of ready`)
      else gaps.push(...(await filmGaps(opened, record.metadataUri)).map(gap => `film ${tokenId}: ${gap}`))
    }
    return gaps
  })
}

t.test(`pinning: ${PIN_FILMS * 2} kills`, async t => {
  custodian = await startDaemonProcess([
    ...['--role', 'custodian', '--data-dir', custodianDir, '--port', String(custodianPort)],
    ...['--p2p-listen', `/ip4/127.0.0.1/tcp/${await freePort()}`, ...chainFlags(devnet.rpcUrl)]
  ])
  box = await startBox()
  screen = await signedInCookie(box.url, devnetWallet(t, devnet, devnet.accounts.owner.privateKey))
  const films = acknowledged.slice(0, PIN_FILMS).map(film => film.tokenId)
  let killedMidPin = 0
  for (const [i, tokenId] of films.entries()) {
    await (await owner.getFunction('buy')(tokenId, 1, { value: PRICE_WEI })).wait()
    for (const during of ['its pin', 'a random moment']) {
      if (during === 'its pin') {
        await waitFor(
          `film ${tokenId} pinning`,
          async () =>
            (await libraryFilms(box!.url, screen)).some(film => film.tokenId === tokenId && ['pinning', 'ready'].includes(film.state)),
          { intervalMs: 20 }
        )
        await sleep(random() * 200)
      } else {
        await sleep(random() * 1500)
      }
      const library = await libraryFilms(box.url, screen)
      await box.kill()
      const ready = library.filter(film => film.state === 'ready').map(film => film.tokenId)
      const pinning = library.find(film => film.state === 'pinning')
      if (pinning !== undefined) killedMidPin++
      const when = `during ${during}${pinning === undefined ? '' : `: film ${pinning.tokenId} was pinning`}`
      t.same(await playerGaps(ready), [], `kill ${i * 2 + (during === 'its pin' ? 1 : 2)} (${when}): ${ready.length} ready films intact`)
      box = await startBox()
    }
  }
  t.comment(`${killedMidPin} of ${films.length * 2} kills came while a film was pinning`)
  await waitFor('every bought film ready', async () => (await readyFilms()).length === films.length, { timeoutMs: 120_000 })
  await box.close()
  t.same(await playerGaps(films), [], 'the pins completed after the kills: every film ready with every block')
})

t.test(`chain sync: ${SYNC_CYCLES} kills`, async t => {
  const ids = acknowledged.map(film => film.tokenId)
  const balances = async (holder: string): Promise<bigint[]> =>
    (await owner.getFunction('balanceOfBatch')(
      ids.map(() => holder),
      ids
    )) as bigint[]
  const send = async (contract: Contract, method: string, ...args: unknown[]): Promise<void> => {
    await (await contract.getFunction(method)(...args)).wait()
  }
  /** One purchase or transfer, some moving tokens away from the owner, some as one TransferBatch. */
  async function randomTransfer(): Promise<void> {
    const [mine, theirs] = await Promise.all([balances(ownerAddress), balances(devnet.accounts.otherCollector.address)])
    const held = ids.filter((_, i) => mine[i]! > 0n)
    const theirsHeld = ids.filter((_, i) => theirs[i]! > 0n)
    const toOther = [ownerAddress, devnet.accounts.otherCollector.address] as const
    const roll = random()
    if (roll < 0.25 && held.length > 0) return await send(owner, 'safeTransferFrom', ...toOther, pick(held), 1, '0x')
    if (roll < 0.4 && held.length > 1) {
      const [a, b] = [...held].sort(() => random() - 0.5)
      return await send(owner, 'safeBatchTransferFrom', ...toOther, [a, b], [1, 1], '0x')
    }
    if (roll < 0.6 && theirsHeld.length > 0)
      return await send(other, 'safeTransferFrom', devnet.accounts.otherCollector.address, ownerAddress, pick(theirsHeld), 1, '0x')
    const quantity = 1 + Math.floor(random() * 3)
    await send(owner, 'buy', pick(ids), quantity, { value: PRICE_WEI * BigInt(quantity) })
  }
  const storedSync = async (): Promise<WatcherState> => {
    const db = await openStateDb(boxDir)
    try {
      const entries = await section(db, 'chain').entries()
      const [, state] = entries.find((entry): entry is [`watcher:${string}`, WatcherState] => entry[0].startsWith('watcher:')) ?? []
      if (state === undefined) throw new Error(`no stored chain watcher position among ${entries.map(([key]) => key).join(', ')}`)
      return state
    } finally {
      await db.close()
    }
  }

  let stored = await storedSync()
  t.ok(stored.lastBlock >= devnet.deploymentBlock, `the player stopped with its sync at block ${stored.lastBlock}`)
  for (let cycle = 1; cycle <= SYNC_CYCLES; cycle++) {
    await randomTransfer() // while the player is down: the restart has blocks to catch up on
    const askedBefore = recorder.logsFrom.length
    box = await startBox()
    const onChain = await balances(ownerAddress)
    const expected = Object.fromEntries(ids.map((id, i) => [id, onChain[i]!.toString()]))
    let seen: Record<string, string> = {}
    await waitFor(
      'the library to equal balanceOfBatch',
      async () => {
        const films = await libraryFilms(box!.url, screen)
        seen = Object.fromEntries(ids.map(id => [id, films.find(film => film.tokenId === id)?.quantity ?? '0']))
        // and the restart's own log reads seen by the relay (a film's quantity alone could already match)
        return JSON.stringify(seen) === JSON.stringify(expected) && recorder.logsFrom.length > askedBefore
      },
      { lastSeen: () => ({ seen, expected, logsFrom: recorder.logsFrom.slice(askedBefore) }) }
    )
    const resumedFrom = recorder.logsFrom.slice(askedBefore)
    t.equal(resumedFrom[0], stored.lastBlock + 1, `restart ${cycle}: sync resumed after its stored block ${stored.lastBlock}`)
    t.ok(
      resumedFrom.every(block => block > stored.lastBlock),
      `restart ${cycle}: no block at or before the stored one is read again (${resumedFrom.join(', ')})`
    )

    for (let i = 0, n = 1 + Math.floor(random() * 3); i < n; i++) await randomTransfer()
    await sleep(random() * 600)
    await box.kill()
    const before = stored.lastBlock
    stored = await storedSync()
    t.ok(stored.lastBlock >= before, `kill ${cycle}: the stored sync block never goes back (${before} → ${stored.lastBlock})`)
  }
  box = await startBox()
  const onChain = await balances(ownerAddress)
  const held = ids.filter((_, i) => onChain[i]! > 0n)
  await waitFor('every held film ready', async () => {
    const films = await libraryFilms(box!.url, screen)
    return held.every(id => films.find(film => film.tokenId === id)?.state === 'ready')
  })
  await box.close()
  t.same(await playerGaps(held), [], 'every film the owner holds is ready with every block')
  const sorted = [...startMs].sort((a, b) => a - b)
  t.comment(`${sorted.length} starts of the player: median ${sorted[sorted.length >> 1]} ms, slowest ${sorted.at(-1)} ms`)
})
