// The newcomer's path: `seed-one demo` on an empty data directory, then the TV's browser (real
// Chromium) opens the one-time sign-in link the demo prints (the newcomer has no wallet to sign a
// pairing code with) and is driven by the keyboard as a remote: the film is shown, chosen and plays.
// A second start on the same data directory comes back as it was, without publishing again; it is
// made with --host 0.0.0.0 (one start for both: the first publishes for ~30 s), so a phone on the LAN
// can open what it prints and the pairing QR code.
import t from 'tap'
import { networkInterfaces } from 'node:os'
import { Wallet } from 'ethers'
import { startDemo, type Demo } from '../server/demo.ts'
import { devnetAccounts } from '../server/devnet/accounts.ts'
import { RESUME_MIN_DURATION_SEC } from '../server/library/playback.ts'
import { collectPageErrors, launchChromium, newTvPage, saveScreenshot } from './helpers/chromium.ts'
import { freePort } from './helpers/daemon-process.ts'
import { getJson, libraryFilms } from './helpers/http.ts'
import { signedInCookie, signInAsOwner } from './helpers/owner-session.ts'
import { waitFor } from './helpers/wait-for.ts'

const dataDir = t.testdir()
const port = await freePort()
const said: string[] = []
let demo: Demo = await startDemo({ dataDir, port, say: line => said.push(line) })
t.teardown(() => demo.close())
const owner = new Wallet(devnetAccounts.owner.privateKey)

t.test('the first start publishes, buys and pairs', async t => {
  t.ok(
    said.some(line => line.startsWith('Publishing the demo film')),
    'published the demo film'
  )
  const status = await getJson<{ paired: boolean }>(`${demo.box.url}/api/status`)
  t.equal(status.paired, true)
  t.match(demo.signInLink, new RegExp(`^${demo.box.url}/api/session/sign-in\\?token=[\\w-]{43}$`), 'a sign-in link for the browser')
  const screen = await signedInCookie(demo.box.url, owner)
  const ready = await waitFor(
    'the demo film to be ready',
    async () => {
      const list = await libraryFilms(demo.box.url, screen)
      return list.length === 1 && list[0].state === 'ready' && list[0]
    },
    { timeoutMs: 90_000 }
  )
  t.equal(ready.contentClass, 'demo')
  t.match(ready.thumbnails, { intervalSec: 10, count: 37, tileWidth: 160 }, 'the demo film has its seek thumbnails')
  const sheet = await fetch(`${demo.box.url}${ready.thumbnails?.sheets[0]?.url}`, { headers: screen })
  t.equal(sheet.headers.get('content-type'), 'image/jpeg')
  t.ok((await sheet.arrayBuffer()).byteLength > 1000)
})

t.test('the sign-in link signs the TV browser in once; it shows the film, and choosing it plays it', async t => {
  const browser = await launchChromium()
  t.teardown(() => browser.close())
  const stranger = await newTvPage(browser)
  await stranger.goto(`${demo.box.url}/`)
  await stranger.locator('[data-focus-key="sign-in"]').waitFor({ timeout: 15_000 })
  t.equal(await stranger.locator('.card').count(), 0, 'a browser without the link sees no film, only Sign in')

  const page = await newTvPage(browser)
  const errors = collectPageErrors(page)
  await page.goto(demo.signInLink)
  t.equal(page.url(), `${demo.box.url}/`, 'the token is gone from the address bar')
  const card = page.locator('.card', { hasText: 'Test Pattern' })
  await card.waitFor({ timeout: 15_000 })
  // focus follows the screen's render by a frame (focus.js watches the DOM), so wait for it rather than sample it
  await page.waitForFunction(() => document.activeElement?.classList.contains('card') === true, undefined, { timeout: 5_000 })
  t.pass('the film card has focus')
  await saveScreenshot(page, 'demo-library')

  await page.keyboard.press('Enter')
  await page.locator('.film-title', { hasText: 'Test Pattern' }).waitFor({ timeout: 10_000 })
  await page.waitForFunction(() => document.activeElement?.textContent?.trim() === 'Play', undefined, { timeout: 5_000 })
  t.pass('Play has focus')
  await saveScreenshot(page, 'demo-film')

  await page.keyboard.press('Enter')
  const video = page.locator('video')
  await video.waitFor({ timeout: 10_000 })
  await page.waitForFunction(
    () => {
      const v = document.querySelector('video')
      return v !== null && v.currentTime > 1.5 && v.readyState >= 2
    },
    undefined,
    { timeout: 30_000 }
  )
  const playing = await video.evaluate(v => ({ width: (v as HTMLVideoElement).videoWidth, error: (v as HTMLVideoElement).error }))
  t.same(playing, { width: 1280, error: null }, 'decoded 720p video from the decrypted stream')
  await saveScreenshot(page, 'demo-playing')

  await page.keyboard.press('Escape')
  await page.waitForFunction(() => document.activeElement?.textContent?.trim() === 'Play', undefined, { timeout: 10_000 })
  await page.keyboard.press('Escape')
  await page.waitForFunction(() => document.activeElement?.querySelector('.card-title')?.textContent === 'Test Pattern', undefined, {
    timeout: 10_000
  })
  t.pass('Back returns focus to the film card')
  t.same(errors, [], 'no script error, nothing the Content-Security-Policy blocked')

  const again = await (await newTvPage(browser)).goto(demo.signInLink)
  t.equal(again?.status(), 403, 'the link works once')
  t.match(await again?.text(), /used already or has expired/)
})

t.test('a second start on the same data directory comes back as it was', async t => {
  const deviceId = demo.box.identity.deviceId
  await demo.close()
  said.length = 0
  demo = await startDemo({ dataDir, port, host: '0.0.0.0', say: line => said.push(line) })
  t.notOk(
    said.some(line => line.startsWith('Publishing')),
    'did not publish again'
  )
  t.notOk(
    said.some(line => line.includes('buys')),
    'did not buy again'
  )
  t.equal(demo.box.identity.deviceId, deviceId, 'same device')
  const screen = await signedInCookie(demo.box.url, owner)
  const list = await libraryFilms(demo.box.url, screen)
  t.same(
    list.map(f => [f.title, f.state]),
    [['Test Pattern', 'ready']],
    'same library, still ready'
  )
  const response = await fetch(`${demo.box.url}/api/films/${list[0].tokenId}/stream`, { headers: { ...screen, range: 'bytes=0-99' } })
  t.equal(response.status, 206)
  t.equal((await response.arrayBuffer()).byteLength, 100)
})

t.test('with --host 0.0.0.0 the URL, the sign-in link and the QR code name an address a phone on the LAN opens', async t => {
  const own = Object.values(networkInterfaces()).flatMap(list => list ?? [])
  const lanIPv4 = own.find(info => info.family === 'IPv4' && !info.internal)?.address
  const url = new URL(demo.url)
  // a machine without a LAN address is only reached on loopback; this one has one when the test runs on a network
  t.equal(url.hostname, lanIPv4 ?? '127.0.0.1', "the machine's first non-internal IPv4 address")
  t.ok(
    own.some(info => info.address === url.hostname),
    `${url.hostname} is one of this machine's own addresses`
  )
  t.equal(url.port, String(port))
  const status = await fetch(`${demo.url}/api/status`)
  t.equal(status.status, 200, 'the box answers on it (the Host check admits the address)')

  const pairing = await getJson<{ pairUrl: string }>(`${demo.url}/api/pairing`)
  t.match(pairing.pairUrl, new RegExp(`^${demo.url}/pair\\?code=`), "a TV that opened that URL shows a QR code of the box's LAN address")

  t.match(demo.signInLink, new RegExp(`^${demo.url}/api/session/sign-in\\?token=[\\w-]{43}$`), 'the sign-in link names it too')
  const signIn = await fetch(demo.signInLink, { redirect: 'manual' })
  t.equal(signIn.status, 303, 'and signs a browser in there')
  const session = await getJson<{ signedIn: boolean }>(`${demo.url}/api/session`, {
    cookie: signIn.headers
      .getSetCookie()
      .map(line => line.split(';')[0])
      .join('; ')
  })
  t.equal(session.signedIn, true)

  t.equal(new URL(demo.custodian.url).hostname, '127.0.0.1', 'the custodian stays on loopback')
  if (lanIPv4 !== undefined) {
    await t.rejects(fetch(`http://${lanIPv4}:${port + 1}/api/status`), 'and does not answer on the LAN address')
  }
})

t.test('the demo film is long enough for Resume: stopped a minute in, the TV offers it', async t => {
  const session = await signInAsOwner(demo.box.url, owner)
  const [film] = await libraryFilms(demo.box.url, session.headers)
  t.ok(film.durationSeconds > RESUME_MIN_DURATION_SEC, `${film.durationSeconds} s, past the ${RESUME_MIN_DURATION_SEC} s Resume needs`)
  const saved = await fetch(`${demo.box.url}/api/playback/${film.tokenId}`, {
    method: 'PUT',
    headers: { 'content-type': 'application/json', ...session.headers },
    body: JSON.stringify({ positionSec: 60, durationSec: film.durationSeconds })
  })
  t.equal(saved.status, 200, 'the position is saved')
  const [after] = await libraryFilms(demo.box.url, session.headers)
  t.equal(after.playback?.resumable, true, 'and the film offers Resume')
})
