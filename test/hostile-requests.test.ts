// Hostile requests against a real box (every role, the owner signed in) and the network's monitor:
// bodies over the size limits, JSON that breaks each route's schema, bodies that are not JSON, path
// traversal on the static routes, and pairing brute force. Each is refused with its status, and what
// the box shows afterwards is what it showed before.
import t from 'tap'
import net from 'node:net'
import { existsSync, readFileSync } from 'node:fs'
import path from 'node:path'
import { fileURLToPath } from 'node:url'
import { ROLES } from '../server/config.ts'
import { BODY_LIMIT_BYTES } from '../server/daemon.ts'
import { decisionFile } from '../server/appliance/disk-consent.ts'
import { KEY_RELEASE_PATH } from '../server/wire/custodian-protocol.ts'
import { BODY_LIMIT_BYTES as MONITOR_BODY_LIMIT_BYTES } from '../server/monitor/monitor.ts'
import { CHALLENGE_PATH, NODES_PATH, REPORTS_PATH } from '../server/wire/monitor-protocol.ts'
import { buildPairingMessage } from '../server/pairing/owner-authorisation.ts'
import { PAIRING_ATTEMPTS_PER_MINUTE } from '../server/pairing/routes.ts'
import { MAX_CHALLENGE_BLOCKS } from '../server/replication/routes.ts'
import { BOX_PAGES_DIR } from '../server/ui/ui-sources.ts'
import { devnetWallet, startTestDevnet } from './helpers/devnet.ts'
import { buyFilm, registerFilm } from './helpers/films.ts'
import { getJson, libraryFilm, rawRequest, type RawResponse } from './helpers/http.ts'
import { daemonConfig, startTestDaemon, testDir } from './helpers/in-process.ts'
import { startTestMonitor } from './helpers/monitor.ts'
import { CookieJar, signInAsOwner } from './helpers/owner-session.ts'
import { askMessage, pollPairing } from './helpers/pairing-client.ts'
import { waitFor } from './helpers/wait-for.ts'

const devnet = await startTestDevnet(t)
const owner = devnetWallet(t, devnet, devnet.accounts.owner.privateKey)
const creator = devnetWallet(t, devnet, devnet.accounts.creator.privateKey)
const otherCollector = devnetWallet(t, devnet, devnet.accounts.otherCollector.privateKey)
const boxDir = testDir(t, 'box')
const box = await startTestDaemon(t, daemonConfig(devnet, boxDir, ROLES))
const monitor = await startTestMonitor(t, testDir(t, 'monitor'))
const { headers: ownerHeaders } = await signInAsOwner(box.url, owner)

// some state to keep: a film with playback progress, and settings that are not the defaults
const film = await registerFilm({ custodian: box, creator, contractAddress: devnet.contractAddress })
await buyFilm(owner, devnet.contractAddress, film.tokenId)
await waitFor('the film in the library', async () => (await libraryFilm(box.url, film.tokenId, ownerHeaders)) !== undefined)
const settings = {
  storageQuotaBytes: 1e9,
  replication: { enabled: false, uploadCapBytesPerSec: 1000, quietHours: null },
  developerMode: true
}
for (const [url, body] of [
  [`${box.url}/api/playback/${film.tokenId}`, { positionSec: 1800, durationSec: 7200 }],
  [`${box.url}/api/settings`, settings]
] as const) {
  const saved = await send('PUT', url, { body: JSON.stringify(body), headers: { 'content-type': 'application/json', ...ownerHeaders } })
  if (saved.status !== 200) throw new Error(`PUT ${url}: ${saved.status} ${saved.body}`)
}

/** A request with the body's Content-Length (or chunked), as a client that means harm may send it. */
async function send(
  method: string,
  url: string,
  opts: { body?: string | Buffer; headers?: Record<string, string>; chunked?: boolean } = {}
): Promise<RawResponse> {
  const headers = { ...opts.headers }
  if (opts.body !== undefined) {
    if (opts.chunked === true) headers['transfer-encoding'] = 'chunked'
    else headers['content-length'] = String(Buffer.byteLength(opts.body))
  }
  return await rawRequest(url, { method, headers, body: opts.body })
}

/** GETs `url` as the owner's browser and parses its JSON. */
const ownerGet = async (url: string): Promise<any> => await getJson(url, { cookie: ownerHeaders.cookie as string })

/** Everything an owner can read of the box, and the monitor's registry. */
async function snapshot(): Promise<unknown> {
  const status = await ownerGet(`${box.url}/api/status`)
  const library = await ownerGet(`${box.url}/api/library`)
  return {
    paired: status.paired,
    owner: status.owner,
    settings: await getJson(`${box.url}/api/settings`),
    films: library.films.map((f: { tokenId: string; playback: unknown }) => ({ tokenId: f.tokenId, playback: f.playback })),
    continueWatching: library.continueWatching,
    diskConsent: await ownerGet(`${box.url}/api/appliance/disk-consent`),
    diskDecision: existsSync(decisionFile(boxDir)),
    ownerSignedIn: (await ownerGet(`${box.url}/api/session`)).signedIn,
    monitorNodes: await getJson(`${monitor.url}${NODES_PATH}`)
  }
}
const before = await snapshot()

interface Target {
  name: string
  method: string
  url: string
  headers: Record<string, string>
  /** Bodies that are JSON but break the route's schema. */
  invalid: unknown[]
}

const owned = { ...ownerHeaders }
const NOT_AN_OBJECT = [null, [], 'x', 1, true]
const targets: Target[] = [
  {
    name: 'settings',
    method: 'PUT',
    url: `${box.url}/api/settings`,
    headers: owned,
    invalid: [
      ...NOT_AN_OBJECT,
      {},
      { ...settings, storageQuotaBytes: -1 },
      { ...settings, storageQuotaBytes: 1.5 },
      { ...settings, storageQuotaBytes: 2 ** 53 },
      { ...settings, storageQuotaBytes: '1000' },
      { ...settings, developerMode: 'true' },
      { ...settings, extra: 1 },
      { ...settings, replication: { ...settings.replication, quietHours: { start: '24:00', end: '07:00' } } },
      { ...settings, replication: { ...settings.replication, quietHours: { start: '23:00' } } },
      { ...settings, replication: { ...settings.replication, uploadCapBytesPerSec: 2 ** 41 } },
      { ...settings, replication: { ...settings.replication, enabled: 1 } },
      { ...settings, replication: { ...settings.replication, more: true } },
      { storageQuotaBytes: 0, developerMode: false }
    ]
  },
  {
    name: 'playback',
    method: 'PUT',
    url: `${box.url}/api/playback/${film.tokenId}`,
    headers: owned,
    invalid: [
      ...NOT_AN_OBJECT,
      {},
      { positionSec: -1, durationSec: 10 },
      { positionSec: 1, durationSec: 0 },
      { positionSec: '1', durationSec: 10 },
      { positionSec: 1 },
      { positionSec: 1, durationSec: 10, watched: true },
      { positionSec: 1, durationSec: 1e12 },
      { positionSec: 20, durationSec: 10 }
    ]
  },
  {
    name: 'disk consent',
    method: 'POST',
    url: `${box.url}/api/appliance/disk-consent`,
    headers: owned,
    invalid: [
      ...NOT_AN_OBJECT,
      {},
      { decision: 'format', diskId: '0123456789abcdef' },
      { decision: 'erase', diskId: '0123' },
      { decision: 'erase', diskId: '0123456789ABCDEF' },
      { decision: 'erase', diskId: '0123456789abcdef', force: true }
    ]
  },
  {
    name: 'key release',
    method: 'POST',
    url: `${box.url}${KEY_RELEASE_PATH}`,
    headers: {},
    invalid: [
      ...NOT_AN_OBJECT,
      {},
      { authorisation: { message: 'm', signature: 's' } },
      { authorisation: { message: 'm', signature: 's' }, request: { payload: 'x'.repeat(2049), signature: 's' } },
      { authorisation: { message: 1, signature: 's' }, request: { payload: 'p', signature: 's' } },
      { authorisation: { message: 'm', signature: 's' }, request: { payload: 'p', signature: 's' }, extra: 1 }
    ]
  },
  {
    name: 'storage challenge',
    method: 'POST',
    url: `${box.url}${CHALLENGE_PATH}`,
    headers: {},
    invalid: [
      ...NOT_AN_OBJECT,
      {},
      { cid: film.contentCid.toString(), blocks: [], deadline: new Date().toISOString() },
      { cid: '../../etc/passwd', blocks: [film.contentCid.toString()], deadline: new Date().toISOString() },
      { cid: film.contentCid.toString(), blocks: [film.contentCid.toString()], deadline: 'tomorrow' },
      {
        cid: film.contentCid.toString(),
        blocks: Array(MAX_CHALLENGE_BLOCKS + 1).fill(film.contentCid.toString()),
        deadline: new Date().toISOString()
      }
    ]
  },
  {
    name: 'monitor reports',
    method: 'POST',
    url: `${monitor.url}${REPORTS_PATH}`,
    headers: {},
    invalid: [...NOT_AN_OBJECT, {}, { payload: 1 }]
  }
]
const limitOf = (target: Target): number => (target.url.startsWith(monitor.url) ? MONITOR_BODY_LIMIT_BYTES : BODY_LIMIT_BYTES)

/** A JSON object of exactly `bytes` bytes. */
const jsonOfSize = (bytes: number): string => `{"pad":"${'x'.repeat(bytes - 10)}"}`

t.test('bodies over the size limit are refused with 413 before anything reads them', async t => {
  // DELETE /api/pairing takes no body: one over the limit must not unpair the box either
  for (const target of [...targets, { name: 'unpairing', method: 'DELETE', url: `${box.url}/api/pairing`, headers: owned, invalid: [] }]) {
    const limit = limitOf(target)
    const headers = { 'content-type': 'application/json', ...target.headers }
    const over = await send(target.method, target.url, { body: jsonOfSize(limit + 1), headers })
    t.equal(over.status, 413, `${target.name}: ${limit + 1} bytes`)
    if (limit === BODY_LIMIT_BYTES) {
      const chunked = await send(target.method, target.url, { body: jsonOfSize(4 * limit), headers, chunked: true })
      t.equal(chunked.status, 413, `${target.name}: ${4 * limit} bytes chunked, without a Content-Length`)
    }
    if (target.method === 'DELETE') continue // within the limit, it would unpair
    const atLimit = await send(target.method, target.url, { body: jsonOfSize(limit), headers })
    t.equal(atLimit.status, 400, `${target.name}: ${limit} bytes are within the limit, and refused by the schema`)
  }
  t.same(await snapshot(), before, 'nothing changed')
})

t.test('JSON that breaks a route schema is refused with 400', async t => {
  const hostile = [
    '{"__proto__":{"developerMode":true}}',
    '{"constructor":{"prototype":{"developerMode":true}}}',
    '['.repeat(20_000) + ']'.repeat(20_000),
    '{"a":'.repeat(5_000) + '1' + '}'.repeat(5_000),
    '{',
    '',
    '\u0000',
    '{"positionSec":1e999,"durationSec":1e999}'
  ]
  for (const target of targets) {
    const headers = { 'content-type': 'application/json', ...target.headers }
    for (const body of [...target.invalid.map(value => JSON.stringify(value)), ...hostile]) {
      const answer = await send(target.method, target.url, { body, headers })
      t.equal(answer.status, 400, `${target.name} ${JSON.stringify(body.slice(0, 80))}: ${answer.body.slice(0, 160)}`)
    }
  }
  for (const tokenId of ['abc', '-1', '1e3', '1'.repeat(79), '1%00', '%20']) {
    const answer = await send('PUT', `${box.url}/api/playback/${tokenId}`, {
      body: JSON.stringify({ positionSec: 1, durationSec: 10 }),
      headers: { 'content-type': 'application/json', ...owned }
    })
    t.equal(answer.status, 400, `playback for film ${tokenId}: ${answer.body.slice(0, 160)}`)
  }
  t.same(await snapshot(), before, 'nothing changed')
})

t.test('bodies that are not JSON are refused with 415', async t => {
  const kinds: [string | undefined, string][] = [
    ['text/plain', JSON.stringify(settings)],
    ['text/plain; charset=utf-8', JSON.stringify(settings)],
    ['application/x-www-form-urlencoded', 'developerMode=false'],
    ['multipart/form-data; boundary=x', '--x\r\nContent-Disposition: form-data; name="a"\r\n\r\n1\r\n--x--\r\n'],
    ['application/xml', '<settings/>'],
    ['application/jsonx', JSON.stringify(settings)],
    ['image/png', '\u0089PNG'],
    [undefined, JSON.stringify(settings)]
  ]
  for (const target of targets) {
    for (const [type, body] of kinds) {
      const headers = { ...target.headers, ...(type === undefined ? {} : { 'content-type': type }) }
      const answer = await send(target.method, target.url, { body, headers })
      t.equal(answer.status, 415, `${target.name} as ${type ?? 'no content type'}: ${answer.body.slice(0, 160)}`)
    }
  }
  t.same(await snapshot(), before, 'nothing changed')
})

/** A GET whose request target goes out byte for byte (URL classes would resolve dot segments first). */
async function rawGet(baseUrl: string, target: string): Promise<{ status: number; text: string }> {
  const { hostname, port, host } = new URL(baseUrl)
  return await new Promise((resolve, reject) => {
    const socket = net.connect(Number(port), hostname)
    const parts: Buffer[] = []
    socket.on('data', part => parts.push(part))
    socket.on('error', reject)
    socket.on('end', () => {
      const text = Buffer.concat(parts).toString('latin1')
      resolve({ status: Number(/^HTTP\/1\.1 (\d{3})/.exec(text)?.[1] ?? 0), text })
    })
    // not ended by this side: the box closes the connection once it has answered (Connection: close)
    socket.write(`GET ${target} HTTP/1.1\r\nHost: ${host}\r\nConnection: close\r\n\r\n`)
  })
}

t.test('the static routes serve nothing outside their folders', async t => {
  const repo = fileURLToPath(new URL('../', import.meta.url))
  const uiRoot = BOX_PAGES_DIR
  const interRoot = path.dirname(fileURLToPath(import.meta.resolve('@fontsource/inter')))
  const keyFile = path.join(boxDir, 'keys', 'device-ed25519.key')
  // what must never come back: the repository's package.json, the box's device key, the system's users
  const secrets = [readFileSync(path.join(repo, 'package.json'), 'latin1'), readFileSync(keyFile, 'latin1'), 'root:x:0:0']
  const fromUi = path.relative(uiRoot, keyFile)
  const fromInter = path.relative(interRoot, keyFile)
  const dots = (n: number, sep: string): string => Array(n).fill('..').join(sep)
  const deep = dots(12, '/')
  const targets = [
    '/../package.json',
    '/%2e%2e/package.json',
    '/.%2e/package.json',
    '/%2E%2E/%2E%2E/package.json',
    '/%252e%252e/package.json',
    '/..%2fpackage.json',
    '/..%2Fpackage.json',
    '/%2e%2e%2fpackage.json',
    '/..%5cpackage.json',
    '/..\\package.json',
    '/..%255cpackage.json',
    '/..%c0%afpackage.json',
    '/..%u2215package.json',
    '/package.json%00.js',
    '/app.js%00/../../package.json',
    `/${fromUi}`,
    `/${fromUi.split('/').join('%2f')}`,
    `/${fromUi.split('/').join('%5c')}`,
    `/${deep}/etc/passwd`,
    `/${dots(12, '%2f')}%2fetc%2fpasswd`,
    '//etc/passwd',
    '/%2fetc%2fpasswd',
    '/vendor/inter/../../package.json',
    '/vendor/inter/%2e%2e/%2e%2e/%2e%2e/package.json',
    '/vendor/inter/..%2f..%2f..%2fpackage.json',
    '/vendor/inter/..%5c..%5c..%5cpackage.json',
    `/vendor/inter/${fromInter}`,
    `/vendor/inter/${fromInter.split('/').join('%2f')}`,
    '/vendor/inter/package.json',
    '/vendor/inter/../package.json',
    '/vendor/inter/../../../package.json',
    '/vendor/inter/files/../package.json',
    '/vendor/preact/package.json',
    '/vendor/..%2f..%2fpackage.json',
    '/.git/config',
    '/.tap/',
    `/${path.relative(uiRoot, path.join(repo, '.git', 'config'))}`
  ]
  // the monitor's dashboard: its own built folder, not the box's pages beside it
  const monitorTargets = [
    '/../box/app.js',
    '/%2e%2e/box/pair.js',
    '/..%2fbox%2fapp.js',
    '/../build.json',
    '/../../package.json',
    '/pair.js',
    '/theme.css/../../package.json',
    '/vendor/inter/../../package.json'
  ]
  const served = {
    box: ['/app.js', '/pair.js', '/styles.css', '/vendor/inter/index.css'],
    monitor: ['/app.js', '/theme.css', '/styles.css']
  }
  for (const [name, base, refused] of [
    ['box', box.url, targets],
    ['monitor', monitor.url, [...targets, ...monitorTargets]]
  ] as const) {
    for (const target of refused) {
      const answer = await rawGet(base, target)
      const leaked = secrets.some(secret => answer.text.includes(secret.trim().slice(0, 200)))
      t.notOk(leaked, `${name} ${target}: nothing from outside the folders (${answer.status})`)
      t.ok([301, 400, 403, 404].includes(answer.status), `${name} ${target}: ${answer.status}`)
      if (answer.status === 301) t.notMatch(answer.text, /\r\nlocation: *(\/\/|https?:)/i, `${target}: a redirect stays on the box`)
    }
    // the files that are there are served: the refusals above are not a static route that serves nothing
    for (const target of served[name]) t.equal((await rawGet(base, target)).status, 200, `${name} ${target}`)
  }
})

t.test('pairing brute force: the limit holds for every kind of attempt, and refused attempts burn no code', async t => {
  const target = await startTestDaemon(t, daemonConfig(devnet, testDir(t, 'brute'), ['player']))
  const host = new URL(target.url).host
  const tvs = [new CookieJar(), new CookieJar(), new CookieJar()]
  const [codeA, codeB, codeC] = await Promise.all(tvs.map(async tv => (await pollPairing(target.url, tv)).code as string))
  const messageFor = (address: string, code: string, domain = host): string =>
    buildPairingMessage({
      domain,
      owner: address,
      chainId: devnet.chainId,
      nonce: code,
      deviceId: target.identity.deviceId,
      x25519PublicKey: target.identity.x25519PublicKey
    })
  const post = async (body: unknown, headers: Record<string, string> = {}): Promise<number> =>
    (
      await send('POST', `${target.url}/api/pairing`, {
        body: JSON.stringify(body),
        headers: { 'content-type': 'application/json', ...headers }
      })
    ).status
  const signed = async (message: string, signer = otherCollector): Promise<{ message: string; signature: string }> => ({
    message,
    signature: await signer.signMessage(message)
  })
  const randomSignature = '0x' + 'ab'.repeat(65)

  // PAIRING_ATTEMPTS_PER_MINUTE attempts of every kind, across codes and addresses
  const attempts: [string, () => Promise<number>, number[]][] = [
    // a message naming the owner signed by another wallet (a wallet that names itself would pair an unpaired box)
    ["another wallet signs TV A's code", async () => await post(await signed(messageFor(owner.address, codeA))), [401]],
    ["another wallet signs TV B's code", async () => await post(await signed(messageFor(owner.address, codeB))), [401]],
    ['a made-up signature', async () => await post({ message: messageFor(owner.address, codeB), signature: randomSignature }), [401]],
    ['a guessed code', async () => await post(await signed(messageFor(owner.address, 'ABCDEFGH'), owner)), [403]],
    ['a message for another host', async () => await post(await signed(messageFor(owner.address, codeB, 'evil.example:80'), owner)), [401]],
    ['a malformed body', async () => await post({ message: 'x', signature: 'not hex' }), [400]],
    ['a message for another address', async () => (await askMessage(target.url, otherCollector.address, codeB)).status, [200]],
    ['a message for a guessed code', async () => (await askMessage(target.url, owner.address, 'HGFEDCBA')).status, [403]],
    ['a message for a bad address', async () => (await askMessage(target.url, '0x' + '1'.repeat(40), codeA)).status, [200, 400]],
    ["another wallet signs TV A's code again", async () => await post(await signed(messageFor(owner.address, codeA))), [401]]
  ]
  t.equal(attempts.length, PAIRING_ATTEMPTS_PER_MINUTE)
  for (const [what, attempt, statuses] of attempts) {
    const status = await attempt()
    t.ok(statuses.includes(status), `${what}: ${status}`)
  }

  // then every attempt is 429, however it is dressed, and none reaches the verifier
  const rightMessage = messageFor(owner.address, codeC)
  const right = await signed(rightMessage, owner)
  const after: [string, () => Promise<number>][] = [
    ['a right signature', async () => await post(right)],
    [
      'a right signature claiming another client address',
      async () => await post(right, { 'x-forwarded-for': '192.0.2.9', 'x-real-ip': '192.0.2.9' })
    ],
    ['a right signature with Forwarded', async () => await post(right, { forwarded: 'for=192.0.2.10' })],
    ...Array.from({ length: 6 }, (_, i): [string, () => Promise<number>] => [
      `wrong signature ${i + 1} for TV C's code`,
      async () => await post(await signed(rightMessage))
    ]),
    ['a message for TV C', async () => (await askMessage(target.url, owner.address, codeC)).status],
    ['a malformed body', async () => await post({})]
  ]
  for (const [what, attempt] of after) t.equal(await attempt(), 429, what)
  t.equal((await getJson(`${target.url}/api/status`)).paired, false, 'the box is not paired')
  const poll = await pollPairing(target.url, tvs[2] as CookieJar)
  t.equal(poll.code, codeC, "TV C's code was not burnt by the refused wrong signatures")

  // each address is limited on its own: the owner's phone elsewhere on the LAN still pairs with TV C's code
  const phone = { remoteAddress: '192.0.2.77', headers: { host, 'content-type': 'application/json' } }
  const paired = await target.app.inject({ method: 'POST', url: '/api/pairing', payload: right, ...phone })
  t.equal(paired.statusCode, 201, paired.body)
  t.equal((await pollPairing(target.url, tvs[2] as CookieJar)).signedIn, true, 'TV C is signed in')
  t.equal(JSON.parse(paired.body).owner, owner.address, 'paired with the owner')
})
