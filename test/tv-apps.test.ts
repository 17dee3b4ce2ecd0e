// The TV apps of `npm run tv-apps` (server/tv-apps/): the webOS package and the Tizen widget's files hold the
// manifests, icons and privileges their platforms ask for, at package.json's version; and the finder page
// they both open (ui/tv-apps/) finds a box by name, through the monitor's discovery page, or at the address
// typed on the remote, and opens it. Installing on a real TV cannot be done here (README: TV apps).
import { mkdir, mkdtemp, readFile, readdir, rm, writeFile } from 'node:fs/promises'
import http from 'node:http'
import type { AddressInfo } from 'node:net'
import { tmpdir } from 'node:os'
import path from 'node:path'
import { pathToFileURL } from 'node:url'
import t from 'tap'
import { runChecks } from 'es-check'
import { ESLint } from 'eslint'
import compat from 'eslint-plugin-compat'
import { extract } from 'tar'
import type { Page } from 'playwright-core'
import { floorQuery } from '../server/ui/floor.ts'
import { buildTvApps } from '../server/tv-apps/build-tv-apps.ts'
import { TIZEN_APP_ID, TIZEN_ICONS, TIZEN_PACKAGE_ID, TIZEN_PRIVILEGES, WEBOS_APP_ID, WEBOS_ICONS } from '../server/tv-apps/manifests.ts'
import { launchChromium, newTvPage, saveScreenshot } from './helpers/chromium.ts'
import { startTestDevnet } from './helpers/devnet.ts'
import { daemonConfig, startTestDaemon, testDir } from './helpers/in-process.ts'

const { version } = JSON.parse(await readFile(new URL('../package.json', import.meta.url), 'utf8')) as { version: string }

/** The members of an `ar` archive (an .ipk is one: debian-binary, control.tar.gz, data.tar.gz). */
function arMembers(archive: Buffer): Map<string, Buffer> {
  if (archive.subarray(0, 8).toString('latin1') !== '!<arch>\n') throw new Error('not an ar archive')
  const members = new Map<string, Buffer>()
  for (let at = 8; at + 60 <= archive.length;) {
    const name = archive
      .subarray(at, at + 16)
      .toString('latin1')
      .trim()
      .replace(/\/$/, '')
    const size = Number(
      archive
        .subarray(at + 48, at + 58)
        .toString('latin1')
        .trim()
    )
    members.set(name, archive.subarray(at + 60, at + 60 + size))
    at += 60 + size + (size % 2) // members start on even offsets
  }
  return members
}

/** A PNG's width and height, from its IHDR chunk. */
function pngSize(png: Buffer): [number, number] {
  if (png.subarray(1, 4).toString('latin1') !== 'PNG' || png.subarray(12, 16).toString('latin1') !== 'IHDR') throw new Error('not a PNG')
  return [png.readUInt32BE(16), png.readUInt32BE(20)]
}

async function untar(tarGz: Buffer, dir: string): Promise<void> {
  await mkdir(dir, { recursive: true })
  const file = `${dir}.tar.gz`
  await writeFile(file, tarGz)
  await extract({ file, cwd: dir })
}

function listen(handler: http.RequestListener): Promise<{ url: string; server: http.Server }> {
  const server = http.createServer(handler)
  return new Promise(resolve =>
    server.listen(0, '127.0.0.1', () => resolve({ url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/`, server }))
  )
}

/** A Seed One as the finder sees it: its public status names a device; `cors` says whether a page may read it. */
function fakeBox(cors: boolean, status: object = { deviceId: 'box-one', version }): http.RequestListener {
  return (request, response) => {
    if (cors) response.setHeader('Access-Control-Allow-Origin', '*')
    if (request.url === '/api/status') response.setHeader('Content-Type', 'application/json').end(JSON.stringify(status))
    else response.setHeader('Content-Type', 'text/html').end('<!doctype html><title>The box</title><p>The box')
  }
}

const outDir = await mkdtemp(path.join(tmpdir(), 'tv-apps-'))
t.teardown(() => rm(outDir, { recursive: true, force: true }))
const apps = await buildTvApps({ outDir, monitorUrl: 'http://monitor.invalid/' })

const browser = await launchChromium()
t.teardown(() => browser.close())

t.test('the webOS package: a hosted web app at the release version, with its icons', async t => {
  const members = arMembers(await readFile(apps.ipk))
  t.same([...members.keys()], ['debian-binary', 'control.tar.gz', 'data.tar.gz'], 'an ipk: ar of debian-binary, control and data')
  const unpacked = path.join(outDir, 'unpacked-ipk')
  await untar(members.get('control.tar.gz')!, path.join(unpacked, 'control'))
  await untar(members.get('data.tar.gz')!, path.join(unpacked, 'data'))
  const control = await readFile(path.join(unpacked, 'control', 'control'), 'utf8')
  t.match(control, new RegExp(`^Package: ${WEBOS_APP_ID.replace(/\./g, '\\.')}$`, 'm'), 'control names the app')
  t.match(control, new RegExp(`^Version: ${version.replace(/\./g, '\\.')}$`, 'm'), "control carries package.json's version")

  const appDir = path.join(unpacked, 'data', 'usr', 'palm', 'applications', WEBOS_APP_ID)
  const appinfo = JSON.parse(await readFile(path.join(appDir, 'appinfo.json'), 'utf8'))
  t.match(appinfo, { id: WEBOS_APP_ID, version, type: 'web', main: 'index.html', icon: 'icon.png', largeIcon: 'largeIcon.png' })
  t.equal(appinfo.disableBackHistoryAPI, true, "Back goes to the box's UI as a key, not to webOS's history")
  for (const [file, size] of Object.entries(WEBOS_ICONS))
    t.same(pngSize(await readFile(path.join(appDir, file))), size, `${file} is ${size.join('×')}`)
  const files = await readdir(appDir)
  for (const file of ['index.html', 'finder.js', 'finder.css', 'config.js']) t.ok(files.includes(file), `the package carries ${file}`)
  t.equal(
    await readFile(path.join(appDir, 'finder.js'), 'utf8'),
    await readFile(new URL('../ui/tv-apps/finder.js', import.meta.url), 'utf8'),
    'the finder script is packaged as written (not minified into something untested)'
  )
})

t.test('the Tizen widget: config.xml at the release version, its icon, the media keys privilege', async t => {
  const page = await newTvPage(browser)
  t.teardown(() => page.context().close())
  const xml = await readFile(path.join(apps.tizenDir, 'config.xml'), 'utf8')
  // Chromium's own XML parser: a malformed config.xml gives a <parsererror>
  const config = await page.evaluate(source => {
    const doc = new DOMParser().parseFromString(source, 'application/xml')
    const tizen = 'http://tizen.org/ns/widgets'
    const widget = doc.documentElement
    const application = doc.getElementsByTagNameNS(tizen, 'application')[0]
    return {
      parseError: doc.getElementsByTagName('parsererror').length > 0,
      root: `${widget.namespaceURI} ${widget.localName}`,
      version: widget.getAttribute('version'),
      appId: application?.getAttribute('id'),
      packageId: application?.getAttribute('package'),
      content: doc.getElementsByTagName('content')[0]?.getAttribute('src'),
      icon: doc.getElementsByTagName('icon')[0]?.getAttribute('src'),
      profile: doc.getElementsByTagNameNS(tizen, 'profile')[0]?.getAttribute('name'),
      privileges: [...doc.getElementsByTagNameNS(tizen, 'privilege')].map(element => element.getAttribute('name')),
      access: doc.getElementsByTagName('access')[0]?.getAttribute('origin'),
      navigation: doc.getElementsByTagNameNS(tizen, 'allow-navigation')[0]?.textContent
    }
  }, xml)
  t.same(config, {
    parseError: false,
    root: 'http://www.w3.org/ns/widgets widget',
    version,
    appId: TIZEN_APP_ID,
    packageId: TIZEN_PACKAGE_ID,
    content: 'index.html',
    icon: 'icon.png',
    profile: 'tv-samsung',
    privileges: TIZEN_PRIVILEGES,
    access: '*',
    navigation: '*'
  })
  t.match(TIZEN_PACKAGE_ID, /^[0-9a-zA-Z]{10}$/, 'a Tizen package id is 10 letters or digits')
  t.ok(TIZEN_PRIVILEGES.includes('http://tizen.org/privilege/tv.inputdevice'), 'the privilege registerKey needs')
  for (const [file, size] of Object.entries(TIZEN_ICONS))
    t.same(pngSize(await readFile(path.join(apps.tizenDir, file))), size, `${file} is ${size.join('×')}`)
})

t.test('the finder page uses nothing above the floor (es-check, eslint-plugin-compat): it is shipped as written', async t => {
  const scripts = [path.join(apps.webosDir, 'finder.js'), path.join(apps.webosDir, 'config.js')]
  const syntax = await runChecks([
    { ecmaVersion: 'checkBrowser', checkBrowser: true, browserslistQuery: floorQuery().join(', '), checkFeatures: true, files: scripts }
  ])
  t.same(
    syntax.errors.map(({ file, err }) => `${path.basename(file)}: ${err.message}`),
    [],
    `no syntax or built-in above ${floorQuery().join(', ')}`
  )
  const eslint = new ESLint({
    cwd: apps.webosDir,
    overrideConfigFile: true,
    overrideConfig: [
      {
        files: ['**/*.js'],
        languageOptions: { ecmaVersion: 'latest', sourceType: 'script' },
        plugins: { compat },
        settings: { browsers: floorQuery() },
        rules: { 'compat/compat': 'error' }
      }
    ]
  })
  const apis = (await eslint.lintFiles(scripts)).flatMap(({ filePath, messages }) =>
    messages.map(({ line, message }) => `${path.basename(filePath)}:${line}: ${message}`)
  )
  t.same(apis, [], `no browser API above ${floorQuery().join(', ')}`)
})

/** The finder page of the webOS app (opened from a file, as webOS opens it), told which names to try. */
async function openFinder(page: Page, query: { candidates: string[]; monitor?: string }, dir = apps.webosDir): Promise<void> {
  const url = pathToFileURL(path.join(dir, 'index.html'))
  url.searchParams.set('candidates', query.candidates.join(','))
  url.searchParams.set('monitor', query.monitor ?? '')
  await page.goto(url.href)
}

/** An address where nothing listens (a port just closed). */
async function deadAddress(): Promise<string> {
  const { url, server } = await listen(() => {})
  await new Promise(resolve => server.close(resolve))
  return url
}

t.test('the finder opens the first name at which a Seed One answers, skipping a server that is not one', async t => {
  const box = await listen(fakeBox(true))
  const impostor = await listen(fakeBox(true, { hello: 'a router page' }))
  t.teardown(() => (box.server.close(), impostor.server.close()))
  const page = await newTvPage(browser)
  t.teardown(() => page.context().close())
  await openFinder(page, { candidates: [await deadAddress(), impostor.url, box.url] })
  await page.waitForURL(box.url)
  t.equal(await page.title(), 'The box', "the box's UI is the top page")
})

t.test('where its status cannot be read across origins, an answer from the name is taken as the box', async t => {
  // a real box: it sends no CORS header, so a page from elsewhere cannot read its status
  const devnet = await startTestDevnet(t)
  const box = await startTestDaemon(t, daemonConfig(devnet, testDir(t, 'box'), ['player']))
  const page = await newTvPage(browser)
  t.teardown(() => page.context().close())
  await openFinder(page, { candidates: [await deadAddress(), `${box.url}/`] })
  await page.waitForURL(`${box.url}/`)
  t.equal(await page.title(), 'Seed One', 'opened the real box, which sends no CORS header: its UI is the top page')
})

t.test("with no name answering, the finder opens a box the monitor's discovery page lists", async t => {
  const box = await listen(fakeBox(true))
  const dead = await deadAddress()
  const asked: string[] = []
  const monitor = await listen((request, response) => {
    asked.push(request.url ?? '')
    response.setHeader('Access-Control-Allow-Origin', '*').setHeader('Content-Type', 'application/json')
    // the shape of the monitor's GET /api/discover (server/monitor/discovery-routes.ts); the finder reads `urls`
    const boxes = [
      { name: 'seedone-gone', urls: [dead], lastReportAt: new Date().toISOString() },
      { name: 'seedone-0001', urls: [box.url], lastReportAt: new Date().toISOString() }
    ]
    response.end(JSON.stringify({ boxes }))
  })
  t.teardown(() => (box.server.close(), monitor.server.close()))
  const page = await newTvPage(browser)
  t.teardown(() => page.context().close())
  await openFinder(page, { candidates: [dead], monitor: monitor.url })
  await page.waitForURL(box.url)
  t.same(asked, ['/api/discover'], 'the monitor was asked once, at /api/discover')
})

t.test("where the monitor's answer cannot be read, the finder offers the monitor's discovery page", async t => {
  const monitor = await listen((request, response) => {
    response.setHeader('Content-Type', request.url === '/api/discover' ? 'application/json' : 'text/html') // and no CORS header
    response.end(request.url === '/api/discover' ? '{"boxes":[]}' : '<!doctype html><title>Seed One boxes on this network</title>')
  })
  t.teardown(() => monitor.server.close())
  const page = await newTvPage(browser)
  t.teardown(() => page.context().close())
  await openFinder(page, { candidates: [await deadAddress()], monitor: monitor.url })
  await page.waitForSelector('#address:focus')
  for (let press = 0; press < 3; press++) await page.keyboard.press('ArrowDown') // field → Connect → Search again → the list
  t.equal(await page.evaluate(() => document.activeElement!.id), 'monitor-list')
  await page.keyboard.press('Enter')
  await page.waitForURL(`${monitor.url}discover`)
  t.equal(await page.title(), 'Seed One boxes on this network')
})

t.test('with nothing found, an address typed once on the remote opens the box, now and at the next start', async t => {
  const box = await listen(fakeBox(true))
  t.teardown(() => box.server.close())
  const dead = await deadAddress()
  const page = await newTvPage(browser)
  t.teardown(() => page.context().close())
  await openFinder(page, { candidates: [dead] })
  await page.waitForSelector('#address:focus')
  t.match(await page.textContent('#status'), /No Seed One answered/)
  t.equal(await page.isHidden('#monitor-list'), true, 'no monitor, no list to offer')
  await saveScreenshot(page, 'tv-app-finder-asks-for-address')

  await page.keyboard.type('nonsense://x')
  await page.keyboard.press('Enter')
  await page.waitForFunction(() => /is not an address/.test(document.getElementById('status')!.textContent!))
  t.equal(await page.inputValue('#address'), 'nonsense://x', 'what was typed stays, to be corrected')
  await page.fill('#address', '')
  const typed = new URL(box.url).host // as the box shows it: 127.0.0.1:port, no scheme
  await page.keyboard.type(typed)
  await page.keyboard.press('ArrowDown') // to Connect
  await page.keyboard.press('Enter')
  await page.waitForURL(box.url)

  const nextStart = await page.context().newPage()
  await openFinder(nextStart, { candidates: [dead] })
  await nextStart.waitForURL(box.url)
  t.pass('the typed address was kept and tried first')
})

t.test("on Tizen the finder registers the remote's media keys the TV supports", async t => {
  const page = await newTvPage(browser)
  t.teardown(() => page.context().close())
  // Tizen's TVInputDevice API exists only on the TV: this stands in for it and records what is registered
  await page.addInitScript(() => {
    const registered: string[] = []
    const supported = [
      'MediaPlay',
      'MediaPause',
      'MediaPlayPause',
      'MediaFastForward',
      'MediaRewind',
      'ColorF0Red',
      'ChannelDown',
      'ChannelUp'
    ]
    Object.assign(window, {
      registered,
      tizen: {
        tvinputdevice: { getSupportedKeys: () => supported.map(name => ({ name })), registerKey: (name: string) => registered.push(name) }
      }
    })
  })
  await openFinder(page, { candidates: [await deadAddress()] }, apps.tizenDir)
  await page.waitForSelector('#address:focus')
  t.same(await page.evaluate(() => (window as unknown as { registered: string[] }).registered), [
    'MediaPlay',
    'MediaPause',
    'MediaPlayPause',
    'MediaFastForward',
    'MediaRewind',
    'ChannelUp',
    'ChannelDown'
  ])
})
