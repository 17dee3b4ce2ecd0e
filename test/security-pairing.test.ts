// Attacks on pairing (issue 3, "Owner sign-in" and the security tests): expired codes, replayed
// messages, the rate limit, a guest's browser polling next to the owner's TV, and signing further
// browsers in. Wrong signatures, wallets and devices are in pairing.test.ts.
import t from 'tap'
import Fastify from 'fastify'
import type { Daemon } from '../server/daemon.ts'
import { answerErrorsByCode } from '../server/http/error-handler.ts'
import { loadOrCreateDeviceIdentity } from '../server/identity/device-identity.ts'
import { buildPairingMessage } from '../server/pairing/owner-authorisation.ts'
import { createOwnerSessions, ownerSession } from '../server/pairing/owner-session.ts'
import { PairingClaims } from '../server/pairing/pairing-code.ts'
import { createPairingStore } from '../server/pairing/pairing-store.ts'
import { PAIRING_ATTEMPTS_PER_MINUTE, pairingRoutes } from '../server/pairing/routes.ts'
import { openStateDb } from '../server/storage/state-db.ts'
import { devnetProvider, devnetWallet, startTestDevnet } from './helpers/devnet.ts'
import { daemonConfig, startTestDaemon, testDir, type Test } from './helpers/in-process.ts'
import { CookieJar } from './helpers/owner-session.ts'
import { askMessage, call, messageFor, pollPairing, sendSignature, session } from './helpers/pairing-client.ts'

const devnet = await startTestDevnet(t)
const owner = devnetWallet(t, devnet, devnet.accounts.owner.privateKey)
const otherCollector = devnetWallet(t, devnet, devnet.accounts.otherCollector.privateKey)

const startBox = async (t: Test): Promise<Daemon> => await startTestDaemon(t, daemonConfig(devnet, testDir(t, 'box'), ['player']))

/** The TV's browser fetches a code; the owner's phone signs it. Returns both browsers. */
async function pairFromPhone(box: Daemon): Promise<{ tv: CookieJar; phone: CookieJar; message: string; signature: string }> {
  const tv = new CookieJar()
  const phone = new CookieJar()
  const message = await messageFor(box.url, owner.address, (await pollPairing(box.url, tv)).code as string)
  const signature = await owner.signMessage(message)
  const answer = await call(phone, `${box.url}/api/pairing`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ message, signature })
  })
  if (answer.status !== 201) throw new Error(`pairing failed: ${answer.status} ${JSON.stringify(answer.json)}`)
  return { tv, phone, message, signature }
}

t.test('an expired code no longer pairs', async t => {
  // the pairing routes on their own, with a clock the test moves
  const dir = testDir(t, 'box')
  const db = await openStateDb(dir)
  t.teardown(() => db.close())
  const identity = await loadOrCreateDeviceIdentity(dir)
  const store = createPairingStore(db)
  const sessions = createOwnerSessions(db)
  let now = Date.now()
  const app = Fastify()
  answerErrorsByCode(app)
  t.teardown(() => app.close())
  await app.register(ownerSession, { sessions, owner: async () => await store.owner() })
  await app.register(pairingRoutes, {
    identity,
    store,
    sessions,
    chainId: devnet.chainId,
    provider: devnetProvider(t, devnet),
    claims: new PairingClaims({ clock: () => now }),
    onPaired: async () => {},
    onRenewed: async () => {},
    onUnpaired: async () => {}
  })
  const url = await app.listen({ host: '127.0.0.1', port: 0 })

  const tv = new CookieJar()
  const shown = await pollPairing(url, tv)
  const lifetime = Date.parse(shown.expiresAt as string) - now
  t.equal(lifetime, 10 * 60_000, 'codes live ten minutes')
  const message = await messageFor(url, owner.address, shown.code as string)
  now += lifetime - 1
  t.equal((await askMessage(url, owner.address, shown.code as string)).status, 200, 'the code works until it expires')

  now += 1
  const late = await sendSignature(url, message, owner)
  t.equal(late.status, 403, 'a signature of an expired code is refused')
  t.equal(late.json.code, 'SEED_PAIRING_CODE_REFUSED')
  t.equal((await askMessage(url, owner.address, shown.code as string)).status, 403, 'and no message is made for it')
  t.equal(await store.owner(), undefined, 'the box is not paired')
  const next = await pollPairing(url, tv)
  t.not(next.code, shown.code, 'the TV shows a new code')
  const fresh = await sendSignature(url, await messageFor(url, owner.address, next.code as string), owner)
  t.equal(fresh.status, 201, 'which pairs')
})

t.test('a signed message works once: replaying it fails', async t => {
  const box = await startBox(t)
  const { tv, message, signature } = await pairFromPhone(box)
  const replay = async (): Promise<number> =>
    (
      await call(new CookieJar(), `${box.url}/api/pairing`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ message, signature })
      })
    ).status
  t.equal(await replay(), 403, 'the pairing message sent again is refused')
  t.equal((await pollPairing(box.url, tv)).signedIn, true, 'the TV is signed in by it, once')
  t.equal(await replay(), 403, 'and after the TV took its session, the message still signs no one in')

  // a sign-in message for a further browser, replayed by someone who captured it
  const laptop = new CookieJar()
  const signIn = await messageFor(box.url, owner.address, (await pollPairing(box.url, laptop)).code as string)
  const signed = await owner.signMessage(signIn)
  const body = JSON.stringify({ message: signIn, signature: signed })
  const send = async (jar: CookieJar): Promise<number> =>
    (await call(jar, `${box.url}/api/pairing`, { method: 'POST', headers: { 'content-type': 'application/json' }, body })).status
  t.equal(await send(laptop), 200, 'the laptop signs in')
  const eavesdropper = new CookieJar()
  t.equal(await send(eavesdropper), 403, 'the same sign-in replayed is refused')
  t.equal((await session(box.url, eavesdropper)).signedIn, false, 'and signs the replaying browser in not')
})

t.test('pairing attempts are rate limited per client address', async t => {
  const box = await startBox(t)
  const tv = new CookieJar()
  const code = (await pollPairing(box.url, tv)).code as string
  const wrongCode = (code[0] === 'A' ? 'B' : 'A') + code.slice(1)
  const guess = buildPairingMessage({
    domain: new URL(box.url).host,
    owner: owner.address,
    chainId: devnet.chainId,
    nonce: wrongCode,
    deviceId: box.identity.deviceId,
    x25519PublicKey: box.identity.x25519PublicKey
  })
  for (let attempt = 1; attempt <= PAIRING_ATTEMPTS_PER_MINUTE; attempt++) {
    t.equal((await sendSignature(box.url, guess, owner)).status, 403, `wrong code ${attempt}: matches no browser's code`)
  }
  const limited = await sendSignature(box.url, guess, owner)
  t.equal(limited.status, 429, 'then the address is limited')
  t.match(
    limited.json,
    {
      code: 'SEED_RATE_LIMITED',
      message: new RegExp(`too many pairing attempts from this address \\(${PAIRING_ATTEMPTS_PER_MINUTE} a minute\\): wait`)
    },
    'it says how long to wait'
  )
  t.equal((await askMessage(box.url, owner.address, code)).status, 429, 'asking for a message is an attempt too')

  // the right code and signature, made off the limited address, then sent from it
  const asked = await box.app.inject({
    method: 'GET',
    url: `/api/pairing/message?${new URLSearchParams({ address: owner.address, code })}`,
    headers: { host: new URL(box.url).host },
    remoteAddress: '192.0.2.7'
  })
  t.equal(asked.statusCode, 200, 'another address is not limited')
  const right = await sendSignature(box.url, asked.json().message, owner)
  t.equal(right.status, 429, 'a right signature cannot get through while the address is limited')
  t.equal((await call(new CookieJar(), `${box.url}/api/status`)).json.paired, false, 'the box is not paired')

  for (let poll = 0; poll < 3 * PAIRING_ATTEMPTS_PER_MINUTE; poll++) {
    const state = await pollPairing(box.url, tv)
    if (state.code !== code) t.fail(`poll ${poll}: the code changed to ${state.code}`)
  }
  t.pass("the TV's status poll is not limited, and its code holds")
})

t.test("a guest's browser polling next to the owner's TV is not signed in when the owner signs the TV's code", async t => {
  const box = await startBox(t)
  const tv = new CookieJar()
  const guest = new CookieJar()
  const [tvState, guestState] = await Promise.all([pollPairing(box.url, tv), pollPairing(box.url, guest)])
  t.not(guestState.code, tvState.code, 'each browser has a code of its own')

  const phone = new CookieJar()
  t.equal((await sendSignature(box.url, await messageFor(box.url, owner.address, tvState.code as string), owner, phone)).status, 201)
  t.equal((await pollPairing(box.url, tv)).signedIn, true, 'the TV is signed in')
  const guestAfter = await pollPairing(box.url, guest)
  t.equal(guestAfter.signedIn, false, 'the guest is not')
  t.equal(guestAfter.code, guestState.code, 'and still only holds its own unsigned code')
  t.equal((await session(box.url, guest)).signedIn, false)
  const { csrfToken } = await session(box.url, guest)
  const unpair = await call(guest, `${box.url}/api/pairing`, { method: 'DELETE', headers: { 'x-csrf-token': csrfToken } })
  t.equal(unpair.status, 401, 'the guest cannot unpair')
})

t.test('a further browser signs in with an owner signature; another wallet cannot', async t => {
  const box = await startBox(t)
  await pairFromPhone(box)

  const laptop = new CookieJar()
  const code = (await pollPairing(box.url, laptop)).code as string
  const theirs = await sendSignature(box.url, await messageFor(box.url, otherCollector.address, code), otherCollector, laptop)
  t.equal(theirs.status, 409, 'a signature by another wallet on a paired box is refused')
  t.equal((await session(box.url, laptop)).signedIn, false, 'and signs nobody in')

  const mine = await sendSignature(box.url, await messageFor(box.url, owner.address, code), owner, laptop)
  t.equal(mine.status, 200, JSON.stringify(mine.json))
  t.same(mine.json, { paired: true, owner: owner.address, signedIn: true })
  const { signedIn, csrfToken } = await session(box.url, laptop)
  t.equal(signedIn, true, 'the laptop is signed in')
  const settings = (await call(laptop, `${box.url}/api/settings`)).json
  const saved = await call(laptop, `${box.url}/api/settings`, {
    method: 'PUT',
    headers: { 'content-type': 'application/json', 'x-csrf-token': csrfToken },
    body: JSON.stringify({ ...settings, developerMode: true })
  })
  t.equal(saved.status, 200, 'and may change the box')
})

t.test('pairing codes and claim tokens stay out of the logs, through a whole pairing flow', async t => {
  const lines: string[] = []
  const box = await startTestDaemon(t, daemonConfig(devnet, testDir(t, 'box'), ['player']), {
    logLevel: 'debug',
    logStream: { write: line => lines.push(line) }
  })
  const tv = new CookieJar()
  const code = (await pollPairing(box.url, tv)).code as string
  const claimToken = /seedone_claim=([^;]+)/.exec(tv.header())?.[1] as string
  t.ok(claimToken, "the TV's browser holds a claim token")
  // the phone opens the QR code's page and asks for the QR again; a mistyped address; a wrong wallet; the owner
  const phone = new CookieJar()
  t.equal((await call(phone, `${box.url}/pair?code=${code}`)).status, 200)
  t.equal((await call(phone, `${box.url}/api/pairing/qr.svg?code=${code}`)).status, 200)
  t.equal((await call(phone, `${box.url}/pairing?code=${code}`)).status, 404)
  t.equal((await sendSignature(box.url, await messageFor(box.url, owner.address, code), otherCollector, phone)).status, 401)
  t.equal((await sendSignature(box.url, await messageFor(box.url, owner.address, code), owner, phone)).status, 201)
  t.equal((await pollPairing(box.url, tv)).signedIn, true, 'the TV redeemed its claim')

  const log = lines.join('')
  t.match(log, /"url":"\/pair\?…"/, 'the requests are logged, by their path')
  t.notOk(log.includes(code), 'the pairing code is nowhere in the log')
  t.notOk(log.includes(claimToken), 'nor is the claim token')
})
