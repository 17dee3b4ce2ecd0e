// The three pages (TV UI, pairing page, fleet dashboard) come from one template: the same fonts, one built
// script each (no import map: the floor's engines have none), and every file they name is served by the
// process that serves the page.
import t from 'tap'
import Fastify from 'fastify'
import type { AddressInfo } from 'node:net'
import { uiRoutes } from '../server/ui/routes.ts'
import { collectPageErrors, launchChromium, newTvPage } from './helpers/chromium.ts'
import { testDir, type Test } from './helpers/in-process.ts'
import { startTestMonitor } from './helpers/monitor.ts'

const box = Fastify()
await box.register(uiRoutes)
await box.listen({ host: '127.0.0.1', port: 0 })
t.teardown(() => box.close())
const boxUrl = `http://127.0.0.1:${(box.server.address() as AddressInfo).port}`
const monitor = await startTestMonitor(t, testDir(t, 'monitor'))

type Head = { inlineScripts: number; stylesheets: string[]; scripts: string[] }

async function pageHead(t: Test, url: string): Promise<Head> {
  const response = await fetch(url)
  t.equal(response.status, 200, `${url} is served`)
  t.match(response.headers.get('content-type'), /^text\/html/)
  t.equal(response.headers.get('cache-control'), 'no-cache', `${url} revalidates`)
  const body = await response.text()
  return {
    inlineScripts: [...body.matchAll(/<script(?![^>]*\ssrc=)[^>]*>/g)].length,
    stylesheets: [...body.matchAll(/<link rel="stylesheet" href="([^"]+)"/g)].map(match => match[1]!),
    scripts: [...body.matchAll(/<script defer src="([^"]+)"><\/script>/g)].map(match => match[1]!)
  }
}

t.test('one head for the TV UI, the pairing page and the fleet dashboard, and everything it names is served', async t => {
  const pages = [
    { origin: boxUrl, head: await pageHead(t, `${boxUrl}/`) },
    { origin: boxUrl, head: await pageHead(t, `${boxUrl}/pair?code=ABCD2345`) },
    { origin: monitor.url, head: await pageHead(t, `${monitor.url}/`) }
  ]
  const [tv, pair, dashboard] = pages.map(page => page.head)
  t.same(tv!.scripts, ['/app.js'])
  t.same(pair!.scripts, ['/pair.js'])
  t.same(dashboard!.scripts, ['/app.js'])
  t.same(dashboard!.stylesheets.slice(4), ['/theme.css', '/styles.css'], 'the dashboard builds on the TV theme')
  for (const { origin, head } of pages) {
    t.equal(head.inlineScripts, 0, 'no inline script (no import map)')
    t.same(head.stylesheets.slice(0, 4), tv!.stylesheets.slice(0, 4), 'the same fonts')
    for (const path of [...head.stylesheets, ...head.scripts]) {
      t.equal((await fetch(`${origin}${path}`)).status, 200, `${origin}${path} is served`)
    }
  }
  t.equal(await (await fetch(`${monitor.url}/theme.css`)).text(), await (await fetch(`${boxUrl}/theme.css`)).text(), 'the same theme')
  const unshared = (await fetch(`${monitor.url}/pair.js`)).status
  t.ok(unshared === 403 || unshared === 404, `the box's pages are not the monitor's (got ${unshared})`)
})

t.test('the dashboard loads its script and the TV theme', async t => {
  const browser = await launchChromium()
  t.teardown(() => browser.close())
  const page = await newTvPage(browser, { width: 1440, height: 900 })
  const errors = collectPageErrors(page)
  await page.goto(monitor.url)
  await page.getByText('No node has reported yet').waitFor({ timeout: 30_000 })
  const looks = await page.evaluate(() => ({
    wordmark: getComputedStyle(document.querySelector('.wordmark')!).display,
    faint: getComputedStyle(document.documentElement).getPropertyValue('--text-faint').trim()
  }))
  t.equal(looks.wordmark, 'flex', 'the wordmark is laid out by theme.css')
  t.match(looks.faint, /^#[0-9a-f]{6}$/i, 'the palette comes from theme.css')
  t.same(errors, [], 'no errors in the page')
})
