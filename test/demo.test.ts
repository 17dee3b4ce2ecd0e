// The newcomer's path: `seed-one demo` on an empty data directory, then the TV's browser (real
// Chromium) driven by the keyboard as a remote: the film is shown, chosen and plays. A second start
// on the same data directory comes back as it was, without publishing again.
import t from 'tap'
import { startDemo, type Demo } from '../server/demo.ts'
import { launchChromium, newTvPage, saveScreenshot } from './helpers/chromium.ts'
import { freePort } from './helpers/daemon-process.ts'
import { getJson, libraryFilms } from './helpers/http.ts'
import { waitFor } from './helpers/wait-for.ts'

const dataDir = t.testdir()
const port = await freePort()
const said: string[] = []
let demo: Demo = await startDemo({ dataDir, port, say: line => said.push(line) })
t.teardown(() => demo.close())

t.test('the first start publishes, buys and pairs', async t => {
  t.ok(
    said.some(line => line.startsWith('Publishing the demo film')),
    'published the demo film'
  )
  const status = await getJson<{ paired: boolean }>(`${demo.box.url}/api/status`)
  t.equal(status.paired, true)
  const ready = await waitFor(
    'the demo film to be ready',
    async () => {
      const list = await libraryFilms(demo.box.url)
      return list.length === 1 && list[0].state === 'ready' && list[0]
    },
    { timeoutMs: 90_000 }
  )
  t.equal(ready.contentClass, 'demo')
  t.match(ready.thumbnails, { intervalSec: 10, count: 3, tileWidth: 160 }, 'the demo film has its seek thumbnails')
  const sheet = await fetch(`${demo.box.url}${ready.thumbnails?.url}`)
  t.equal(sheet.headers.get('content-type'), 'image/jpeg')
  t.ok((await sheet.arrayBuffer()).byteLength > 1000)
})

t.test('the TV browser shows the film, and choosing it plays it', async t => {
  const browser = await launchChromium()
  t.teardown(() => browser.close())
  const page = await newTvPage(browser)
  await page.goto(`${demo.box.url}/`)
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
})

t.test('a second start on the same data directory comes back as it was', async t => {
  const deviceId = demo.box.identity.deviceId
  await demo.close()
  said.length = 0
  demo = await startDemo({ dataDir, port, say: line => said.push(line) })
  t.notOk(
    said.some(line => line.startsWith('Publishing')),
    'did not publish again'
  )
  t.notOk(
    said.some(line => line.includes('buys')),
    'did not buy again'
  )
  t.equal(demo.box.identity.deviceId, deviceId, 'same device')
  const list = await libraryFilms(demo.box.url)
  t.same(
    list.map(f => [f.title, f.state]),
    [['Test Pattern', 'ready']],
    'same library, still ready'
  )
  const response = await fetch(`${demo.box.url}/api/films/${list[0].tokenId}/stream`, { headers: { range: 'bytes=0-99' } })
  t.equal(response.status, 206)
  t.equal((await response.arrayBuffer()).byteLength, 100)
})
