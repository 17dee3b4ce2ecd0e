// A guest on the LAN can change nothing (issue 3, "Owner sign-in"): every state-changing route of a box
// with every role, found in the running app's route table (so routes added later are covered too),
// refuses a browser without the owner's session, and the owner's own browser without its CSRF token.
import t from 'tap'
import type { FastifyInstance } from 'fastify'
import { ROLES } from '../server/config.ts'
import { KEY_RELEASE_PATH, REVOCATIONS_PATH } from '../server/wire/custodian-protocol.ts'
import { CHALLENGE_PATH, REPORTS_PATH } from '../server/wire/monitor-protocol.ts'
import { PINNING_API_PREFIX } from '../server/pinning/routes.ts'
import { devnetWallet, startTestDevnet } from './helpers/devnet.ts'
import { daemonConfig, startTestDaemon, testDir } from './helpers/in-process.ts'
import { CookieJar, signInAsOwner } from './helpers/owner-session.ts'
import { call, session } from './helpers/pairing-client.ts'

const STATE_CHANGING_METHODS = ['POST', 'PUT', 'PATCH', 'DELETE'] as const

/** Routes authorised otherwise than by the owner's browser session, each with the reason. */
const NOT_OWNER_ROUTES: { method: string; path: string; reason: string }[] = [
  { method: 'POST', path: '/api/pairing', reason: "authorised by the owner's signature itself, and rate limited" },
  {
    method: 'POST',
    path: KEY_RELEASE_PATH,
    reason: "device to device (custodian): the owner's authorisation, the device's signature and the chain balance"
  },
  {
    method: 'POST',
    path: '/api/pairing/revocations',
    reason: "the owner's signed device revocation: the signature is the authority, only the box's owner's is relayed, rate limited"
  },
  { method: 'POST', path: REVOCATIONS_PATH, reason: "the owner's signed device revocation (custodian): it only ever refuses keys" },
  { method: 'POST', path: CHALLENGE_PATH, reason: "the monitor's proof-of-holding challenge: answering it changes nothing on the box" },
  { method: 'POST', path: REPORTS_PATH, reason: "the monitor's: reports are signed by the device key and carry a sequence number" },
  // the Pinning Service API: tools outside a browser, each with a bearer token the owner made (test/pinning-service.test.ts)
  ...['POST /pins', 'POST /pins/:requestid', 'DELETE /pins/:requestid'].map(route => {
    const [method, path] = route.split(' ')
    return { method, path: `${PINNING_API_PREFIX}${path}`, reason: 'the Pinning Service API: a bearer token the owner made, no cookie' }
  })
]

interface Route {
  method: string
  path: string
}

/**
 * The routes of `method` in the app's route table (find-my-way's radix tree as printRoutes draws it:
 * one node per line, four characters of indentation per level, methods in brackets on routes).
 */
function routesOf(app: FastifyInstance, method: string): Route[] {
  const routes: Route[] = []
  const segments: string[] = []
  for (const line of app.printRoutes({ method }).split('\n')) {
    const node = /^([│ ]*)[└├]── (.+?)(?: \(([A-Z, ]+)\))?$/.exec(line)
    if (node === null) continue
    segments.length = node[1].length / 4
    segments.push(node[2])
    if (node[3]?.split(', ').includes(method)) routes.push({ method, path: segments.join('') })
  }
  return routes
}

/** A URL path that the route matches: parameters and wildcards filled in. */
function concretePath(path: string): string {
  return path.replace(/:\w+(\([^)]*\))?/g, '1').replace(/\*$/, 'x')
}

const devnet = await startTestDevnet(t)
const owner = devnetWallet(t, devnet, devnet.accounts.owner.privateKey)
const box = await startTestDaemon(t, daemonConfig(devnet, testDir(t, 'box'), ROLES))

const routes = STATE_CHANGING_METHODS.flatMap(method => routesOf(box.app, method))
const isExcluded = (route: Route): boolean => NOT_OWNER_ROUTES.some(ex => ex.method === route.method && ex.path === route.path)
const guarded = routes.filter(route => !isExcluded(route))

t.test('the route table is read in full', async t => {
  for (const expected of ['DELETE /api/pairing', 'PUT /api/settings', 'POST /api/pairing', `POST ${KEY_RELEASE_PATH}`]) {
    t.ok(
      routes.some(route => `${route.method} ${route.path}` === expected),
      `${expected} is found among ${routes.map(r => `${r.method} ${r.path}`).join(', ')}`
    )
  }
  t.comment(`state-changing routes checked: ${guarded.map(r => `${r.method} ${r.path}`).join(', ')}`)
  t.comment(`left out: ${NOT_OWNER_ROUTES.map(r => `${r.method} ${r.path} (${r.reason})`).join('; ')}`)
})

t.test('without the owner session or CSRF token, every state-changing route refuses', async t => {
  const ownerJar = new CookieJar()
  await signInAsOwner(box.url, owner, ownerJar)
  const guestJar = new CookieJar()
  const guestToken = (await session(box.url, guestJar)).csrfToken
  const settingsBefore = (await call(guestJar, `${box.url}/api/settings`)).json

  // each refusal carries its code: the owner's session missing, or the CSRF token (@fastify/csrf-protection's codes)
  const notSignedIn = { status: 401, code: 'SEED_NOT_SIGNED_IN' }
  const csrfRefused = { status: 403, code: 'FST_CSRF_INVALID_TOKEN' }
  const attempts: { who: string; jar: CookieJar; headers: Record<string, string>; refusal: { status: number; code: string } }[] = [
    { who: 'a guest', jar: guestJar, headers: { 'x-csrf-token': guestToken }, refusal: notSignedIn },
    { who: 'a client without cookies', jar: new CookieJar(), headers: {}, refusal: notSignedIn },
    { who: 'the owner browser without a CSRF token', jar: ownerJar, headers: {}, refusal: csrfRefused },
    { who: "the owner browser with the guest's CSRF token", jar: ownerJar, headers: { 'x-csrf-token': guestToken }, refusal: csrfRefused },
    { who: 'the owner browser with a made-up CSRF token', jar: ownerJar, headers: { 'x-csrf-token': 'x'.repeat(52) }, refusal: csrfRefused }
  ]
  for (const route of guarded) {
    for (const attempt of attempts) {
      const answer = await call(attempt.jar, `${box.url}${concretePath(route.path)}`, {
        method: route.method,
        headers: { 'content-type': 'application/json', ...attempt.headers },
        body: '{}'
      })
      t.match(
        { status: answer.status, code: answer.json?.code },
        attempt.refusal,
        `${route.method} ${route.path} from ${attempt.who}: ${answer.status} ${JSON.stringify(answer.json).slice(0, 160)}`
      )
    }
  }

  t.equal((await session(box.url, ownerJar)).signedIn, true, 'the owner is still signed in')
  t.same((await call(guestJar, `${box.url}/api/settings`)).json, settingsBefore, 'the settings are unchanged')
  const status = (await call(ownerJar, `${box.url}/api/status`)).json
  t.equal(status.owner, owner.address, 'the box is still paired with its owner')
})
