// Playback progress on a real box (devnet, custodian, box daemons; the owner signed in as the pairing
// page does it): owner-only writes, Jellyfin's resume and watched rules, Continue watching, a restart.
import t from 'tap'
import type { Daemon } from '../server/daemon.ts'
import type { LibraryView } from '../server/library/routes.ts'
import { section } from '../server/storage/state-db.ts'
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
const boxConfig = daemonConfig(devnet, testDir(t, 'box'), ['player'], custodian.multiaddrs())
let box: Daemon = await startTestDaemon(t, boxConfig)
const { headers: ownerHeaders } = await signInAsOwner(box.url, owner)

const publishAndBuy = async (): Promise<string> => {
  const film = await registerFilm({ custodian, creator, contractAddress: devnet.contractAddress })
  await buyFilm(owner, devnet.contractAddress, film.tokenId)
  return film.tokenId
}
const first = await publishAndBuy()
const second = await publishAndBuy()
const library = async (): Promise<LibraryView> => await getJson<LibraryView>(`${box.url}/api/library`, ownerHeaders)
await waitFor('both films in the library', async () => (await library()).films.length === 2)

async function report(tokenId: string, body: unknown, headers: Record<string, string> = ownerHeaders) {
  const response = await rawRequest(`${box.url}/api/playback/${tokenId}`, {
    method: 'PUT',
    headers: { 'content-type': 'application/json', ...headers },
    body: JSON.stringify(body)
  })
  return { status: response.status, json: JSON.parse(response.body) }
}

const TWO_HOURS = 7200

t.test('only the signed-in owner records progress, and only sensible progress', async t => {
  const position = { positionSec: 1800, durationSec: TWO_HOURS }
  t.equal((await report(first, position, {})).status, 401, 'a guest without the session cookie')
  t.equal((await report(first, position, { cookie: ownerHeaders.cookie })).status, 403, 'the cookie without the CSRF token')
  t.equal((await report('999999', position)).status, 404, 'a film that is not in the library')
  const past = await report(first, { positionSec: 100, durationSec: 50 })
  t.equal(past.status, 400)
  t.equal(past.json.code, 'SEED_POSITION_PAST_END')
  for (const body of [
    { positionSec: -1, durationSec: 10 },
    { positionSec: 1, durationSec: 0 },
    { positionSec: '1', durationSec: 10 },
    { positionSec: 1 }
  ])
    t.equal((await report(first, body)).status, 400, JSON.stringify(body))
  t.same((await library()).continueWatching, [], 'nothing was recorded')
  t.equal((await library()).films.find(f => f.tokenId === first)?.playback, null)
})

t.test("Jellyfin's rules: resume between 5 % and 90 % of a film over 5 minutes; watched past 90 %", async t => {
  const early = await report(first, { positionSec: 300, durationSec: TWO_HOURS })
  t.equal(early.status, 200)
  t.match(early.json, { positionSec: 300, durationSec: TWO_HOURS, watched: false, resumable: false }, 'under 5 %: start again')
  t.same((await library()).continueWatching, [])

  const middle = await report(first, { positionSec: 3600, durationSec: TWO_HOURS })
  t.match(middle.json, { positionSec: 3600, watched: false, resumable: true })
  const view = await library()
  t.same(view.continueWatching, [first])
  t.match(view.films.find(f => f.tokenId === first)?.playback, { positionSec: 3600, durationSec: TWO_HOURS, resumable: true })
  t.ok(Date.now() - Date.parse(middle.json.updatedAt) < 60_000, 'updatedAt is now')

  const short = await report(second, { positionSec: 150, durationSec: 299 })
  t.match(short.json, { resumable: false, watched: false }, 'a film of 5 minutes or less is not resumed')

  await report(second, { positionSec: 1000, durationSec: TWO_HOURS })
  t.same((await library()).continueWatching, [second, first], 'the most recently watched first')
  await report(first, { positionSec: 3610, durationSec: TWO_HOURS })
  t.same((await library()).continueWatching, [first, second])

  const finished = await report(first, { positionSec: 6500, durationSec: TWO_HOURS })
  t.match(finished.json, { watched: true, resumable: false }, 'past 90 %: watched, no resume')
  t.same((await library()).continueWatching, [second])
  const again = await report(first, { positionSec: 2000, durationSec: TWO_HOURS })
  t.match(again.json, { watched: true, resumable: true }, 'watched again part way: still watched, and resumable')
})

t.test('progress survives a restart', async st => {
  const before = await library()
  await box.close()
  box = await startTestDaemon(t, boxConfig) // for the rest of the file, not this subtest
  const after = await library()
  st.same(after.continueWatching, before.continueWatching)
  st.same(
    after.films.map(f => f.playback),
    before.films.map(f => f.playback)
  )
})

t.test('unpairing forgets the watch history with the films', async t => {
  const { headers } = await signInAsOwner(box.url, owner)
  t.ok((await section(box.db, 'playback').entries()).length > 0, 'progress was kept until now')
  const unpaired = await rawRequest(`${box.url}/api/pairing`, { method: 'DELETE', headers })
  t.equal(unpaired.status, 200)
  t.same(await section(box.db, 'playback').entries(), [], 'no progress is left')
  t.equal(
    (await rawRequest(`${box.url}/api/library`, { headers })).status,
    401,
    "the library is no one's: unpairing signed every screen out"
  )
})
