// The box as a guest on the LAN and a web page in the owner's browser see it (issue 11, findings 2 and 3):
// without the owner's session nothing decrypted leaves the box, nor the owner's wallet; a name that is not
// the box's own (DNS rebinding) is refused even with the owner's cookie; and a creator who says its film
// is text/html gets it served as a video that no browser sniffs into a page.
import t from 'tap'
import { createHash } from 'node:crypto'
import { section } from '../server/storage/state-db.ts'
import { buyFilm, registerFilm } from './helpers/films.ts'
import { libraryFilm, rawRequest, streamRequest, type RawResponse, type StreamResponse } from './helpers/http.ts'
import { signedInCookie } from './helpers/owner-session.ts'
import { publishClip, startTvWorld } from './helpers/tv-world.ts'
import { waitFor } from './helpers/wait-for.ts'
import { ownNames, searchDomains } from '../server/http/host-check.ts'
import { hostOf } from '../server/http/host-name.ts'

const world = await startTvWorld(t)
const { box, custodian, owner } = world
const port = new URL(box.url).port
// a film with subtitles and a thumbnail sheet, made by the real publish pipeline
const clipId = await publishClip(t, world, { title: 'Guarded', seconds: 12 })
// a hostile creator's "film": its metadata says text/html, and its bytes are a page
const page = await registerFilm({ custodian, creator: world.creator, contractAddress: world.devnet.contractAddress, mimeType: 'text/html' })
await buyFilm(owner, world.devnet.contractAddress, page.tokenId)
const ownerCookie = await signedInCookie(box.url, owner)
for (const tokenId of [clipId, page.tokenId]) {
  await waitFor(`film ${tokenId} to be ready`, async () => (await libraryFilm(box.url, tokenId, ownerCookie))?.state === 'ready', {
    timeoutMs: 90_000
  })
}
const clip = await libraryFilm(box.url, clipId, ownerCookie)
const thumbnailsUrl = clip?.thumbnails?.sheets[0]?.url as string
const subtitlesUrl = clip?.subtitles[0]?.url as string
t.ok(thumbnailsUrl !== undefined && subtitlesUrl !== undefined, 'the clip has thumbnails and subtitles to steal')

const plaintextRoutes = [
  { name: 'GET stream', path: `/api/films/${clipId}/stream`, method: 'GET', range: 'bytes=0-' },
  { name: 'HEAD stream', path: `/api/films/${clipId}/stream`, method: 'HEAD', range: 'bytes=0-99' },
  { name: 'subtitles', path: subtitlesUrl, method: 'GET' },
  { name: 'thumbnails', path: thumbnailsUrl, method: 'GET' },
  { name: 'the library', path: '/api/library', method: 'GET' }
]

async function ask(path: string, headers: Record<string, string>, method = 'GET'): Promise<StreamResponse> {
  return await streamRequest(`${box.url}${path}`, headers, method)
}

t.test('a client with no cookie, on the box name or a foreign one, gets no plaintext and no owner address', async t => {
  for (const host of [`127.0.0.1:${port}`, 'attacker.example']) {
    for (const route of plaintextRoutes) {
      const answer = await ask(route.path, { host, ...(route.range === undefined ? {} : { range: route.range }) }, route.method)
      t.ok(
        [401, 421].includes(answer.status),
        `${route.name} without a cookie, Host ${host}: ${answer.status} ${answer.headers['content-type']} ${answer.body.length} bytes`
      )
      t.notOk(answer.body.includes('Guarded'), `${route.name}: no film details in the answer`)
    }
    for (const path of ['/api/status', '/api/session', '/api/pairing']) {
      const answer = await rawRequest(`${box.url}${path}`, { headers: { host } })
      t.notOk(
        answer.body.toLowerCase().includes(owner.address.toLowerCase().slice(2)),
        `${path} without a cookie, Host ${host}: ${answer.status}, no owner address in ${answer.body.slice(0, 200)}`
      )
    }
  }
  const ownView = await ask(`/api/films/${clipId}/stream`, { ...ownerCookie, range: 'bytes=0-99' })
  t.equal(ownView.status, 206, "the owner's signed-in screen plays the film")
})

t.test('a rebinding Host is refused even with the owner cookie', async t => {
  const foreign = [
    'attacker.example',
    `attacker.example:${port}`,
    'seedone.attacker.example',
    'seedone.local.attacker.example',
    'localhost.attacker.example',
    '127.0.0.1.attacker.example',
    'seedone.localattacker.example'
  ]
  for (const host of foreign) {
    for (const path of [`/api/films/${clipId}/stream`, '/api/library', '/api/status', '/']) {
      const answer = await ask(path, { ...ownerCookie, host, range: 'bytes=0-99' })
      t.equal(answer.status, 421, `${path} with the owner cookie, Host ${host}: ${answer.status} ${answer.body.subarray(0, 160)}`)
    }
  }
  const refused = await rawRequest(`${box.url}/api/library`, { headers: { ...ownerCookie, host: 'seedone.attacker.example' } })
  t.match(
    JSON.parse(refused.body),
    { code: 'SEED_WRONG_HOST', message: /does not answer to the name "seedone\.attacker\.example"/ },
    'the refusal says why'
  )

  for (const host of [`127.0.0.1:${port}`, `localhost:${port}`, `seedone.local:${port}`, 'seedone.local', `[::1]:${port}`]) {
    const answer = await ask(`/api/films/${clipId}/stream`, { ...ownerCookie, host, range: 'bytes=0-99' })
    t.equal(answer.status, 206, `the box's own name ${host} plays the film`)
  }
})

t.test('a film whose metadata says text/html is served as a video, with nosniff and a CSP', async t => {
  const answer = await ask(`/api/films/${page.tokenId}/stream`, ownerCookie)
  t.equal(answer.status, 200)
  t.ok(answer.body.equals(page.plaintext), 'the bytes are the film')
  t.match(answer.headers['content-type'], /^video\//, `served as ${answer.headers['content-type']}`)
  t.equal(answer.headers['x-content-type-options'], 'nosniff', 'no browser sniffs it into a page')
  t.match(answer.headers['content-security-policy'], /script-src 'self'/, 'scripts only from the box itself')
  t.match(answer.headers['content-security-policy'], /frame-ancestors 'none'/, 'no other page frames it')
  t.equal(answer.headers['referrer-policy'], 'no-referrer', 'no address of the box leaks as a referrer')

  const ui = await ask('/', {})
  t.match(ui.headers['content-security-policy'], /frame-ancestors 'none'/, 'the TV page cannot be framed by another site')
  t.equal(ui.headers['x-content-type-options'], 'nosniff')
})

t.test("the box's own names are its hostname, with its lease's domain, and its addresses: whole names only", async t => {
  const dir = t.testdir({ 'resolv.conf': 'nameserver 192.168.1.1\nsearch home.lan.\n' })
  const domains = await searchDomains([`${dir}/resolv.conf`, `${dir}/missing`])
  t.same(domains, ['home.lan'], 'the search domain the DHCP lease gave')
  const names = await ownNames({
    deviceId: box.identity.deviceId,
    publicUrl: 'http://films.example.org:8080',
    allowedHosts: ['tv-box.router.example', 'fd00::5'],
    machine: async () => ({
      hostname: 'livingroom',
      searchDomains: domains,
      addresses: ['192.168.1.20', 'fe80::1%eth0', '::1', '127.0.0.1']
    })
  })
  for (const name of [
    'livingroom',
    'livingroom.home.lan',
    'livingroom.local',
    '192.168.1.20',
    'fe80::1',
    'films.example.org',
    'tv-box.router.example',
    'fd00::5',
    'seedone.local',
    'localhost'
  ]) {
    t.ok(names.has(name), `${name} is the box's`)
  }
  for (const name of [
    'livingroom.home.lan.attacker.example',
    'attacker-livingroom',
    'home.lan',
    'seedone.attacker.example',
    'films.example.org.evil'
  ]) {
    t.notOk(names.has(name), `${name} is not`)
  }
  t.equal(hostOf('[FE80::1]:8080'), 'fe80::1', 'an IPv6 literal in brackets, with a port')
  t.equal(hostOf('LivingRoom.Home.Lan.:80'), 'livingroom.home.lan', 'a name in any case, with a trailing dot')
  t.equal(hostOf('evil.example/x'), undefined, 'not a host')
})

t.test('a session lasts 30 days from its last use: renewed as it is used, refused once lapsed', async t => {
  const { cookie } = await signedInCookie(box.url, owner)
  const token = /seedone_session=([^;]+)/.exec(cookie)?.[1] as string
  const sessions = section(box.db, 'sessions')
  const key = createHash('sha256').update(token).digest('hex')
  const library = async (): Promise<RawResponse & { setCookie: string }> => {
    const answer = await streamRequest(`${box.url}/api/library`, { cookie })
    return { status: answer.status, body: answer.body.toString(), setCookie: String(answer.headers['set-cookie'] ?? '') }
  }
  const DAY_MS = 24 * 60 * 60_000

  await sessions.put(key, { expiresAt: Date.now() + 10 * DAY_MS })
  const used = await library()
  t.equal(used.status, 200, 'a session with 10 days left works')
  t.match(used.setCookie, /seedone_session=.*Max-Age=2592000/, 'and is sent again for 30 days')
  t.ok(((await sessions.get(key))?.expiresAt ?? 0) > Date.now() + 29 * DAY_MS, 'its end moved to 30 days from now')
  t.equal((await library()).setCookie, '', 'used again the same day, it is not written again')

  await sessions.put(key, { expiresAt: Date.now() + 365 * DAY_MS })
  await library()
  t.ok(((await sessions.get(key))?.expiresAt ?? Infinity) <= Date.now() + 30 * DAY_MS, 'a year-long session from before is cut to 30 days')

  await sessions.put(key, { expiresAt: Date.now() - 1000 })
  t.equal((await library()).status, 401, 'a lapsed session is refused')
})
