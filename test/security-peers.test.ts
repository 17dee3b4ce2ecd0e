// Issue 11, findings 5 and 6, tried as a storage peer would on real parts (devnet, custodian, five
// storage nodes with k = 3, the real monitor, a paired player): fake reporters claiming every CID to
// make honest nodes release their replicas, and URLs handed to the monitor and to boxes that would
// turn their requests to other hosts, paths or redirects. The monitor runs in open admission (a
// test network), the weakest mode: an allow-list would refuse the fakes' reports outright.
import t from 'tap'
import { CID } from 'multiformats/cid'
import { loadOrCreateDeviceIdentity, type DeviceIdentity } from '../server/identity/device-identity.ts'
import { signPayload } from '../server/identity/device-signature.ts'
import { pairAsOwner } from '../server/demo.ts'
import { metadataCidFromUri } from '../server/library/film-metadata.ts'
import { REPORTS_PATH } from '../server/wire/monitor-protocol.ts'
import { section } from '../server/storage/state-db.ts'
import { isPinned } from '../server/storage/content.ts'
import type { Daemon } from '../server/daemon.ts'
import { connectDevnet, devnetWallet, startTestDevnet } from './helpers/devnet.ts'
import { buyFilm, registerFilm } from './helpers/films.ts'
import { daemonConfig, startTestDaemon, testDir } from './helpers/in-process.ts'
import { healthReport, registry, startTestMonitor } from './helpers/monitor.ts'
import { startIdentityBox, startRecorder } from './helpers/peers.ts'
import { waitFor } from './helpers/wait-for.ts'

const K = 3
const HONEST = 5
const FAKES = 50
/** Fakes that run a box answering for their own key (so the monitor lists them) but hold nothing. */
const SELF_ANSWERING_FAKES = 5
const FAKE_ROUNDS = 8
const ROUND_MS = 2_000

const devnet = await startTestDevnet(t)
const creator = devnetWallet(t, devnet, devnet.accounts.creator.privateKey)
const owner = devnetWallet(t, devnet, devnet.accounts.owner.privateKey)
const { creator: token } = connectDevnet(t, devnet)
const monitor = await startTestMonitor(t, testDir(t, 'monitor'), { nodeTimeoutMs: 6_000, admission: { mode: 'open' } })
const custodian = await startTestDaemon(t, daemonConfig(devnet, testDir(t, 'custodian'), ['custodian']))

const films = [
  await registerFilm({ custodian, creator, contractAddress: devnet.contractAddress }),
  await registerFilm({ custodian, creator, contractAddress: devnet.contractAddress })
]
const catalogue: string[] = []
for (const film of films) {
  catalogue.push(metadataCidFromUri((await token.getFunction('uri')(film.tokenId)) as string).toString(), film.contentCid.toString())
}

const honest: Daemon[] = []
for (let i = 0; i < HONEST; i++) {
  honest.push(
    await startTestDaemon(t, {
      ...daemonConfig(devnet, testDir(t, `node-${i}`), ['storage'], custodian.multiaddrs()),
      monitorUrl: monitor.url,
      reportIntervalSec: 1,
      pinStallMs: 10_000
    })
  )
}

/** Honest copies of each catalogue CID, from the nodes' own pins. */
async function honestCopies(): Promise<number[]> {
  const counts: number[] = []
  for (const cid of catalogue) {
    let held = 0
    for (const node of honest) if (await isPinned(node.helia, CID.parse(cid))) held++
    counts.push(held)
  }
  return counts
}

/** Sends one signed report as the device, from an address of its own (an attacker has many: no rate limit helps). */
async function report(identity: DeviceIdentity, seq: number, apiUrl: string, held: string[], address: string): Promise<number> {
  const signed = await signPayload(identity, healthReport(identity, seq, { apiUrl, held, quotaBytes: 1e15 }))
  const response = await monitor.app.inject({ method: 'POST', url: REPORTS_PATH, payload: signed, remoteAddress: address })
  return response.statusCode
}

t.test('fifty fake reporters claiming every CID: no honest copy is released', async t => {
  let last: number[] = []
  await waitFor(`exactly ${K} honest copies of each CID`, async () => (last = await honestCopies()).every(n => n === K), {
    timeoutMs: 90_000,
    lastSeen: () => last
  })

  // fresh keys and real signed reports; most name an honest node's URL (whose answers would be the
  // honest node's), a few run a box of their own that answers for their key and holds nothing
  const fakes: Array<{ identity: DeviceIdentity; apiUrl: string }> = []
  for (let i = 0; i < FAKES; i++) {
    const identity = await loadOrCreateDeviceIdentity(testDir(t, `fake-${i}`))
    const apiUrl = i < SELF_ANSWERING_FAKES ? (await startIdentityBox(t, identity)).url : honest[i % HONEST].url
    fakes.push({ identity, apiUrl })
  }
  const lowest = catalogue.map(() => Infinity)
  let accepted = 0
  for (let round = 1; round <= FAKE_ROUNDS; round++) {
    for (const [i, fake] of fakes.entries()) {
      if ((await report(fake.identity, round, fake.apiUrl, catalogue, `198.51.100.${i + 1}`)) === 201) accepted++
    }
    // the honest nodes poll the registry every 500 ms: several passes see each round
    for (const end = Date.now() + ROUND_MS; Date.now() < end; await new Promise(resolve => setTimeout(resolve, 100))) {
      for (const [i, n] of (await honestCopies()).entries()) lowest[i] = Math.min(lowest[i], n)
    }
  }
  t.equal(accepted, FAKES * FAKE_ROUNDS, 'every fake report was well formed and signed: the monitor accepted them')
  t.ok(
    lowest.every(n => n >= K),
    `every CID kept ${K} honest copies while the fakes reported (lowest per CID: ${lowest.join(' ')})`
  )

  const listed = await registry(monitor.url)
  const fakeIds = new Set(fakes.map(fake => fake.identity.deviceId))
  const honestIds = new Set(honest.map(node => node.identity.deviceId))
  t.same(
    listed.filter(
      node => fakeIds.has(node.deviceId) && !fakes.slice(0, SELF_ANSWERING_FAKES).some(f => f.identity.deviceId === node.deviceId)
    ),
    [],
    "no fake that named an honest node's URL is listed"
  )
  const selfAnswering = listed.filter(node => fakeIds.has(node.deviceId))
  t.ok(
    selfAnswering.every(node => node.held.length === 0),
    'the fakes that answer for their own key are listed, holding nothing: their claims failed their challenges'
  )
  t.equal(listed.filter(node => honestIds.has(node.deviceId)).length, HONEST, 'the honest nodes stay listed')
})

t.test('hostile apiUrls: refused, or never asked anything but who answers there', async t => {
  const target = await startRecorder(t)
  const redirector = await startRecorder(t, (_request, response) =>
    response.writeHead(307, { location: `${target.url}/internal/admin` }).end()
  )
  const stranger = await startRecorder(t)
  const [withPath, redirecting, notTheBox] = await Promise.all(
    ['path', 'redirect', 'stranger'].map(name => loadOrCreateDeviceIdentity(testDir(t, `hostile-${name}`)))
  )

  for (const apiUrl of [`${target.url}/internal/admin?to=http://192.168.1.1`, `${target.url}/`, `http://x@${new URL(target.url).host}`]) {
    t.equal(await report(withPath, 1, apiUrl, catalogue, '203.0.113.1'), 400, `a report naming ${apiUrl} is refused`)
  }
  t.equal(await report(redirecting, 1, redirector.url, catalogue, '203.0.113.2'), 201)
  t.equal(await report(notTheBox, 1, stranger.url, catalogue, '203.0.113.3'), 201)

  // the monitor's own way to reach a node (the scheduled challenges, run now)
  for (const identity of [redirecting, notTheBox]) {
    t.equal(await monitor.challenger.challenge(identity.deviceId), undefined, 'no challenge is sent to a node not listed')
  }
  const asked = await waitFor(
    'the monitor to ask both URLs who answers there',
    async () => {
      const ask = (requests: Array<{ url: string }>) => requests.some(request => request.url.startsWith('/api/identity?'))
      return ask(redirector.requests) && ask(stranger.requests)
    },
    { timeoutMs: 15_000 }
  ).then(
    () => true,
    () => false
  )
  t.ok(asked, 'the monitor asked both URLs who answers there')
  const listed = new Set((await registry(monitor.url)).map(node => node.deviceId))
  t.notOk(listed.has(redirecting.deviceId), 'a node whose URL redirects is not listed')
  t.notOk(listed.has(notTheBox.deviceId), 'a node whose URL is a host that does not answer for its key is not listed')
  t.same(target.requests, [], 'the redirect was never followed')
  for (const [name, recorder] of [
    ['the redirecting host', redirector],
    ['the stranger', stranger]
  ] as const) {
    t.ok(
      recorder.requests.every(request => request.method === 'GET' && /^\/api\/identity\?nonce=[A-Za-z0-9_-]+$/.test(request.url)),
      `${name} was asked only who answers there: ${JSON.stringify(recorder.requests.map(r => `${r.method} ${r.url}`))}`
    )
  }
})

t.test("a custodian URL in a film's metadata with a path, or that redirects, is not followed", async t => {
  const box = await startTestDaemon(t, daemonConfig(devnet, testDir(t, 'player'), ['player'], custodian.multiaddrs()))
  await pairAsOwner(box.url, owner)
  const pathHost = await startRecorder(t)
  const target = await startRecorder(t)
  const redirector = await startRecorder(t, (_request, response) =>
    response.writeHead(307, { location: `${target.url}/internal/admin` }).end()
  )
  const withPath = await registerFilm({
    custodian,
    creator,
    contractAddress: devnet.contractAddress,
    custodianUrl: `${pathHost.url}/internal/admin?do=reboot`
  })
  const redirecting = await registerFilm({ custodian, creator, contractAddress: devnet.contractAddress, custodianUrl: redirector.url })
  for (const film of [withPath, redirecting]) await buyFilm(owner, devnet.contractAddress, film.tokenId)

  const records = section(box.db, 'films')
  for (const film of [withPath, redirecting]) {
    const failed = await waitFor(`film ${film.tokenId} to fail`, async () => {
      const record = await records.get(film.tokenId)
      return record?.state === 'error' && record
    })
    t.comment(`film ${film.tokenId}: ${failed.error}`)
  }
  t.same(pathHost.requests, [], 'the host behind a custodian URL with a path was sent nothing')
  t.ok(redirector.requests.length > 0, 'the custodian URL without a path was asked')
  t.same(target.requests, [], 'its redirect was never followed')
})
