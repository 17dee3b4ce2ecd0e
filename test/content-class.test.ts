// Content classes on a real box: `test` and `development` films are hidden (list, stream, poster,
// progress) unless developer mode is on, and then listed with their class; `test` content past its
// expiry is hidden always. Publishing refuses an expiry the rules do not allow.
import t from 'tap'
import path from 'node:path'
import type { FilmMetadata } from '../server/library/film-metadata.ts'
import { MetadataError, parseFilmMetadata } from '../server/library/film-metadata.ts'
import type { FilmRecord } from '../server/library/film-record.ts'
import type { LibraryView } from '../server/library/routes.ts'
import { section } from '../server/storage/state-db.ts'
import { runCli } from './helpers/daemon-process.ts'
import { devnetWallet, startTestDevnet } from './helpers/devnet.ts'
import { buyFilm, registerFilm } from './helpers/films.ts'
import { getJson, rawRequest } from './helpers/http.ts'
import { daemonConfig, startTestDaemon, testDir } from './helpers/in-process.ts'
import { signInAsOwner } from './helpers/owner-session.ts'
import { waitFor } from './helpers/wait-for.ts'

const devnet = await startTestDevnet(t)
const creator = devnetWallet(t, devnet, devnet.accounts.creator.privateKey)
const owner = devnetWallet(t, devnet, devnet.accounts.owner.privateKey)
const custodian = await startTestDaemon(t, daemonConfig(devnet, testDir(t, 'custodian'), ['custodian']))
const box = await startTestDaemon(t, daemonConfig(devnet, testDir(t, 'box'), ['player'], custodian.multiaddrs()))
const { headers: ownerHeaders } = await signInAsOwner(box.url, owner)

const HOUR_MS = 3_600_000
const kinds = {
  production: { contentClass: 'production' },
  test: { contentClass: 'test' },
  development: { contentClass: 'development' },
  expiringLater: { contentClass: 'test', expiresAt: new Date(Date.now() + HOUR_MS).toISOString() },
  expired: { contentClass: 'test', expiresAt: new Date(Date.now() - HOUR_MS).toISOString() }
} as const satisfies Record<string, { contentClass: FilmMetadata['contentClass']; expiresAt?: string }>
type Kind = keyof typeof kinds

const tokenIds = {} as Record<Kind, string>
for (const [kind, options] of Object.entries(kinds) as Array<[Kind, (typeof kinds)[Kind]]>) {
  const film = await registerFilm({ custodian, creator, contractAddress: devnet.contractAddress, ...options })
  await buyFilm(owner, devnet.contractAddress, film.tokenId)
  tokenIds[kind] = film.tokenId
}
const kindOf = (tokenId: string): Kind | undefined => (Object.keys(tokenIds) as Kind[]).find(kind => tokenIds[kind] === tokenId)

// Hidden films cannot be watched through the API: the box's own records say when all are ready.
await waitFor('every film to be ready on the box', async () => {
  const records = await section(box.db, 'films').entries()
  return records.length === 5 && records.every(([, record]) => record.state === 'ready')
})

const setDeveloperMode = async (on: boolean): Promise<void> => await box.settings.put({ ...(await box.settings.get()), developerMode: on })
const listed = async (): Promise<LibraryView['films']> => (await getJson<LibraryView>(`${box.url}/api/library`, ownerHeaders)).films
const status = async (url: string, init: { method?: string; headers?: Record<string, string>; body?: string } = {}): Promise<number> =>
  (await rawRequest(`${box.url}${url}`, init)).status
const progressRequest = {
  method: 'PUT',
  headers: { 'content-type': 'application/json', ...ownerHeaders },
  body: JSON.stringify({ positionSec: 600, durationSec: 3600 })
}

t.test('without developer mode only production content is there at all', async t => {
  await setDeveloperMode(false)
  t.same(
    (await listed()).map(film => kindOf(film.tokenId)),
    ['production']
  )
  for (const kind of ['test', 'development', 'expiringLater', 'expired'] as const) {
    const tokenId = tokenIds[kind]
    t.equal(await status(`/api/films/${tokenId}/stream`, { headers: { ...ownerHeaders, range: 'bytes=0-9' } }), 404, `${kind}: no stream`)
    t.equal(await status(`/api/films/${tokenId}/poster`, { headers: ownerHeaders }), 404, `${kind}: no poster`)
    t.equal(await status(`/api/playback/${tokenId}`, progressRequest), 404, `${kind}: no progress`)
  }
  t.equal(await status(`/api/films/${tokenIds.production}/stream`, { headers: { ...ownerHeaders, range: 'bytes=0-9' } }), 206)
})

t.test('developer mode shows test and development content, labelled; expired test content stays hidden', async t => {
  await setDeveloperMode(true)
  const films = await listed()
  t.same(films.map(film => kindOf(film.tokenId)).sort(), ['development', 'expiringLater', 'production', 'test'])
  const byKind = Object.fromEntries(films.map(film => [kindOf(film.tokenId), film]))
  t.equal(byKind.test?.contentClass, 'test')
  t.equal(byKind.development?.contentClass, 'development')
  t.equal(byKind.expiringLater?.expiresAt, kinds.expiringLater.expiresAt, 'the expiry is shown with it')
  t.equal(byKind.production?.expiresAt, null)
  t.equal(await status(`/api/films/${tokenIds.test}/stream`, { headers: { ...ownerHeaders, range: 'bytes=0-9' } }), 206)
  t.equal(await status(`/api/playback/${tokenIds.development}`, progressRequest), 200)
  t.equal(
    await status(`/api/films/${tokenIds.expired}/stream`, { headers: { ...ownerHeaders, range: 'bytes=0-9' } }),
    404,
    'expired: no stream'
  )
  t.equal(await status(`/api/films/${tokenIds.expired}/poster`, { headers: ownerHeaders }), 404, 'expired: no poster')
  await setDeveloperMode(false)
  t.same(
    (await getJson<LibraryView>(`${box.url}/api/library`, ownerHeaders)).continueWatching,
    [],
    'progress on hidden films is not offered'
  )
})

t.test('metadata with a malformed expiry is refused', async t => {
  const record = (await section(box.db, 'films').get(tokenIds.expiringLater)) as FilmRecord
  const encode = (metadata: object): Uint8Array => new TextEncoder().encode(JSON.stringify(metadata))
  t.ok(parseFilmMetadata(encode(record.metadata as FilmMetadata)), 'the published metadata parses')
  for (const expiresAt of ['tomorrow', '2030-02-30T00:00:00Z', '2030-01-01T00:00:00']) {
    t.throws(() => parseFilmMetadata(encode({ ...record.metadata, expiresAt })), MetadataError, expiresAt)
  }
})

t.test('publish refuses an expiry on content other than test, and one in the past', async t => {
  const args = (contentClass: string, expiresAt: string) => [
    'publish',
    path.join(testDir(t, 'nowhere'), 'film.mp4'),
    '--title',
    'Never published',
    '--content-class',
    contentClass,
    '--expires-at',
    expiresAt,
    '--data-dir',
    testDir(t, `publisher-${contentClass}`),
    '--rpc-url',
    devnet.rpcUrl,
    '--contract',
    devnet.contractAddress
  ]
  await t.rejects(runCli(args('production', '2099-01-01T00:00:00Z')), /only test content expires/)
  await t.rejects(runCli(args('test', '2001-01-01T00:00:00Z')), /has passed already/)
})
