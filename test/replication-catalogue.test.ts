// The catalogue from FilmRegistered events on the devnet, with metadata read from a custodian's
// Helia: order and sizes, metadata not readable yet, invalid metadata, and resuming after a restart.
import t from 'tap'
import { Contract, parseEther, type JsonRpcProvider, type Log, type Filter } from 'ethers'
import { CID } from 'multiformats/cid'
import * as raw from 'multiformats/codecs/raw'
import { sha256 } from 'multiformats/hashes/sha2'
import { loadFilmTokenArtifact } from '../server/chain/artifacts.ts'
import { createCatalogue, FilmUnreadableError, type CatalogueOptions } from '../server/replication/catalogue.ts'
import { addBytes } from '../server/storage/content.ts'
import { openStateDb, section } from '../server/storage/state-db.ts'
import { devnetProvider, devnetWallet, startTestDevnet } from './helpers/devnet.ts'
import { registerFilm, type HandMadeFilm } from './helpers/films.ts'
import { daemonConfig, startTestDaemon, testDir } from './helpers/in-process.ts'

const devnet = await startTestDevnet(t)
const creator = devnetWallet(t, devnet, devnet.accounts.creator.privateKey)
const custodian = await startTestDaemon(t, daemonConfig(devnet, testDir(t, 'custodian'), ['custodian']))
const db = await openStateDb(testDir(t, 'catalogue'))
t.teardown(() => db.close())
const store = section(db, 'catalogue')
const { abi } = await loadFilmTokenArtifact()
const token = new Contract(devnet.contractAddress, abi, creator)

/** The devnet's provider, with the getLogs ranges asked for written down. */
function countingProvider(): { provider: JsonRpcProvider; ranges: Array<[number, number]> } {
  const base = devnetProvider(t, devnet)
  const ranges: Array<[number, number]> = []
  const provider = new Proxy(base, {
    get(target, property) {
      if (property === 'getLogs') {
        return async (filter: Filter): Promise<Log[]> => {
          ranges.push([Number(filter.fromBlock), Number(filter.toBlock)])
          return await target.getLogs(filter)
        }
      }
      const value: unknown = Reflect.get(target, property, target)
      return typeof value === 'function' ? value.bind(target) : value
    }
  })
  return { provider, ranges }
}

let metadataReads = 0
function catalogueOver(provider: JsonRpcProvider, overrides: Partial<CatalogueOptions> = {}) {
  return createCatalogue({
    provider,
    contractAddress: devnet.contractAddress,
    fromBlock: devnet.deploymentBlock,
    confirmations: 0,
    store,
    readMetadata: async (cid, signal) => {
      metadataReads++
      return await custodian.helia.content.readBytes(cid, { signal })
    },
    readFileSize: async (cid, signal) => await custodian.helia.content.fileSize(cid, signal),
    metadataTimeoutMs: 1000,
    ...overrides
  })
}

/** Registers a film whose token URI is `uri`, as a creator might get it wrong. */
async function registerUri(uri: string): Promise<string> {
  const receipt = await (await token.getFunction('registerFilm')(uri, parseEther('0.01'), 10, [], creator.address, 0)).wait()
  const event = receipt.logs
    .map((log: Log) => token.interface.parseLog(log))
    .find((e: { name: string } | null) => e?.name === 'FilmRegistered')
  return String(event.args.id)
}

const films: HandMadeFilm[] = []

t.test('films in registration order, each its parts in filmParts order (the content after the small ones), with their sizes', async t => {
  films.push(await registerFilm({ custodian, creator, contractAddress: devnet.contractAddress, bytes: 3000 }))
  films.push(await registerFilm({ custodian, creator, contractAddress: devnet.contractAddress, bytes: 7000 }))
  const { provider } = countingProvider()
  const catalogue = catalogueOver(provider)
  let changes = 0
  catalogue.onChange(() => changes++)
  t.ok(await catalogue.syncOnce(), 'the first sync changes the catalogue')
  t.equal(changes, 2, 'one change as each film is read')
  const entries = await catalogue.entries()
  t.same(
    entries.map(e => [e.tokenId, e.kind]),
    [
      [films[0].tokenId, 'metadata'],
      [films[0].tokenId, 'poster'],
      [films[0].tokenId, 'content'],
      [films[1].tokenId, 'metadata'],
      [films[1].tokenId, 'poster'],
      [films[1].tokenId, 'content']
    ]
  )
  for (const [i, film] of films.entries()) {
    const content = entries[3 * i + 2]
    t.equal(content.cid, film.contentCid.toString())
    t.equal(content.bytes, (await custodian.helia.content.readBytes(film.contentCid)).byteLength, 'the content’s size is its sealed bytes')
    t.equal(entries[3 * i + 1].bytes, 512, 'the poster’s size is read from its root (registerFilm’s poster is 512 bytes)')
    const metadata = entries[3 * i]
    t.equal(
      metadata.bytes,
      (await custodian.helia.content.readBytes(CID.parse(metadata.cid))).byteLength,
      'the metadata’s size is its JSON'
    )
  }
  t.notOk(await catalogue.syncOnce(), 'nothing new: no change')
  await catalogue.close()
})

t.test('metadata not readable yet waits for a later sync; invalid metadata is set aside for good', async t => {
  // a film published like the first one (its content too), whose metadata reaches IPFS only later
  const firstMetadata = (await catalogueOver(countingProvider().provider).entries())[0].cid
  const metadata = JSON.parse(new TextDecoder().decode(await custodian.helia.content.readBytes(CID.parse(firstMetadata))))
  const pendingMetadata = new TextEncoder().encode(JSON.stringify({ ...metadata, title: 'Published late' }))
  // the CID addBytes will give these bytes (one raw leaf), known before anyone holds them
  const pendingCid = CID.create(1, raw.code, await sha256.digest(pendingMetadata))
  const pendingId = await registerUri(`ipfs://${pendingCid}`)
  const notJson = await addBytes(custodian.helia, new TextEncoder().encode('not JSON'))
  const notJsonId = await registerUri(`ipfs://${notJson}`)
  const notIpfsId = await registerUri('https://example.com/film.json')
  const errors: string[] = []
  const catalogue = catalogueOver(countingProvider().provider, { onError: err => errors.push((err as Error).message) })
  await catalogue.syncOnce()
  const byId = new Map((await catalogue.films()).map(film => [film.tokenId, film]))
  t.equal(byId.get(pendingId)?.contentCid, undefined, 'the film whose metadata nobody has yet waits')
  t.match(errors.join('\n'), new RegExp(`film ${pendingId}: metadata ${pendingCid} not readable yet`), 'and says so')
  t.match(byId.get(notJsonId)?.invalid, /not JSON/, 'metadata that is not JSON is invalid')
  t.match(byId.get(notIpfsId)?.invalid, /not ipfs:\/\/<cid>/, 'a token URI that is not ipfs:// is invalid')
  t.equal((await catalogue.entries()).length, 6, 'only complete, valid films are replicated')

  const reads = metadataReads
  t.same(await addBytes(custodian.helia, pendingMetadata), pendingCid, 'its metadata is published after all')
  t.ok(await catalogue.syncOnce(), 'the next sync reads it')
  t.equal(metadataReads - reads, 1, 'only the waiting film’s metadata was read again, not the invalid ones')
  const entries = await catalogue.entries()
  t.same(
    entries.slice(6).map(e => [e.tokenId, e.kind, e.cid]),
    [
      [pendingId, 'metadata', pendingCid.toString()],
      [pendingId, 'poster', metadata.poster.cid],
      [pendingId, 'content', films[0].contentCid.toString()]
    ],
    'the film joins the catalogue in its registration place'
  )
  await catalogue.close()
})

t.test('a new catalogue over the same store resumes after the last block it processed', async t => {
  const { provider, ranges } = countingProvider()
  const catalogue = catalogueOver(provider)
  const before = (await catalogue.entries()).length
  t.notOk(await catalogue.syncOnce(), 'nothing new since the last run')
  t.same(ranges, [], 'and no block was read again')
  const head = Number(await provider.send('eth_blockNumber', []))
  films.push(await registerFilm({ custodian, creator, contractAddress: devnet.contractAddress, bytes: 1000 }))
  t.ok(await catalogue.syncOnce())
  t.ok(
    ranges.length > 0 && ranges.every(([from]) => from > head),
    `only the new blocks were read: ${JSON.stringify(ranges)} after block ${head}`
  )
  t.equal((await catalogue.entries()).length, before + 3)
  await catalogue.close()
})

t.test('a film stored before parts were replicated keeps its two entries, then its metadata is read once for its parts', async t => {
  const catalogue = catalogueOver(countingProvider().provider)
  const [first] = await catalogue.films()
  const { parts, title, ...stored } = first
  t.equal(title, 'Hand-made test film', 'the title is kept from the metadata')
  await store.put(`film:${first.tokenId.padStart(78, '0')}`, stored)
  const entries = (await catalogue.entries()).filter(e => e.tokenId === first.tokenId)
  t.same(
    entries.map(e => e.kind),
    ['metadata', 'content'],
    'as stored by the older release: its metadata and content'
  )
  const reads = metadataReads
  t.ok(await catalogue.syncOnce(), 'the next sync reads its metadata again')
  t.equal(metadataReads - reads, 1, 'once, for that film alone')
  t.same((await catalogue.films())[0].parts, parts, 'and learns its parts')
  t.notOk(await catalogue.syncOnce(), 'and not again')

  // parts as a release before they were named stored them: read once more for their names
  const unnamed = parts?.map(({ name, ...part }) => part)
  await store.put(`film:${first.tokenId.padStart(78, '0')}`, { ...first, parts: unnamed as typeof parts })
  t.ok(await catalogue.syncOnce(), 'a film whose parts have no names is read again')
  t.same((await catalogue.films())[0].parts, parts, 'and learns their names')
  t.notOk(await catalogue.syncOnce(), 'and not again')
  await catalogue.close()
})

/** A CID nobody holds: the token URI of a film published into the wrong data directory (issue 17). */
async function unservedCid(): Promise<CID> {
  return CID.create(1, raw.code, await sha256.digest(new TextEncoder().encode(`nobody serves this ${Math.random()}`)))
}

t.test('a film whose metadata nobody serves is retried less often each time, and fresh films are read before it', async t => {
  const lostId = await registerUri(`ipfs://${await unservedCid()}`)
  const errors: FilmUnreadableError[] = []
  const catalogue = catalogueOver(countingProvider().provider, { onError: err => errors.push(err as FilmUnreadableError) })
  for (let sync = 1; sync <= 8; sync++) {
    if (sync === 3) films.push(await registerFilm({ custodian, creator, contractAddress: devnet.contractAddress, bytes: 1000 }))
    await catalogue.syncOnce()
  }
  t.same(
    errors.map(err => [err.name, err.tokenId]),
    [1, 2, 4, 8].map(() => ['FilmUnreadableError', lostId]),
    'read at syncs 1, 2, 4 and 8 (skipping 0, 1, then 3 syncs), each failure naming its film'
  )
  t.ok(
    (await catalogue.films()).some(film => film.tokenId === films.at(-1)!.tokenId && film.parts !== undefined),
    'a film registered meanwhile is read at once'
  )
  await catalogue.close()
  // retired, so that the next test hears of its own films alone
  await (await token.getFunction('retireFilm')(lostId)).wait()
})

t.test('a film whose metadata read hangs holds up none registered after it', async t => {
  const lostId = await registerUri(`ipfs://${await unservedCid()}`)
  const next = await registerFilm({ custodian, creator, contractAddress: devnet.contractAddress, bytes: 1000 })
  films.push(next)
  // the lost film's read lasts until the catalogue closes: a film read after it in turn would wait as long
  const catalogue = catalogueOver(countingProvider().provider, { metadataTimeoutMs: 10 * 60_000 })
  const listed = new Promise<void>(resolve =>
    catalogue.onChange(async () => {
      if ((await catalogue.films()).some(film => film.tokenId === next.tokenId && film.parts !== undefined)) resolve()
    })
  )
  const syncing = catalogue.syncOnce()
  await listed
  t.pass(`film ${next.tokenId} is listed while film ${lostId}'s metadata is still being asked for`)
  await catalogue.close()
  await syncing
  await (await token.getFunction('retireFilm')(lostId)).wait()
})

t.test('a retired film leaves the catalogue, is asked for no more, and its replicas are named for release', async t => {
  const lostId = await registerUri(`ipfs://${await unservedCid()}`)
  const held = films.at(-1)!
  const errors: string[] = []
  const catalogue = catalogueOver(countingProvider().provider, { onError: err => errors.push((err as Error).message) })
  await catalogue.syncOnce()
  t.match(errors.join('\n'), `film ${lostId}: metadata`, 'the film nobody serves fails')
  const heldCids = (await catalogue.entries()).filter(e => e.tokenId === held.tokenId).map(e => e.cid)
  t.equal(heldCids.length, 3, 'the held film is listed with its parts')
  t.same(await catalogue.retiredCids(), new Set(), 'nothing retired yet')

  for (const id of [lostId, held.tokenId]) await (await token.getFunction('retireFilm')(id)).wait()
  const reads = metadataReads
  errors.length = 0
  t.ok(await catalogue.syncOnce(), 'the retirements change the catalogue')
  const listed = (await catalogue.films()).map(film => film.tokenId)
  t.notOk(listed.includes(lostId) || listed.includes(held.tokenId), 'neither film is listed any more')
  t.notOk(
    (await catalogue.entries()).some(e => e.tokenId === held.tokenId),
    'nor replicated'
  )
  t.same(await catalogue.retiredCids(), new Set(heldCids), "the retired film's parts are the ones to release")
  for (let sync = 0; sync < 8; sync++) await catalogue.syncOnce()
  t.equal(metadataReads, reads, 'nine syncs read no metadata: the retired film is asked for no more')
  t.same(errors, [], 'and nothing is said of it')
  await catalogue.close()
})
