import t from 'tap'
import { readFile } from 'node:fs/promises'
import { request } from 'node:http'
import type { AddressInfo } from 'node:net'
import Fastify from 'fastify'
import type { Page } from 'playwright-core'
import { uiRoutes } from '../server/ui/routes.ts'
import { collectPageErrors, launchChromium, newTvPage, pressKeyCode, saveScreenshot } from './helpers/chromium.ts'

// A 3x3 grid whose DOM order is shuffled against its visual order, so only spatial navigation
// (not tab order) lands on the expected neighbours.
const cells: Record<string, [row: number, column: number]> = {
  A: [1, 1],
  B: [1, 2],
  C: [1, 3],
  D: [2, 1],
  E: [2, 2],
  F: [2, 3],
  G: [3, 1],
  H: [3, 2],
  I: [3, 3]
}
const domOrder = ['F', 'A', 'I', 'C', 'E', 'H', 'B', 'G', 'D']

const fixtureHtml = `<!doctype html>
<html><head><meta charset="utf-8"><style>
  body { margin: 0; padding: 40px; background: #111; }
  .grid { display: grid; grid-template-columns: repeat(3, 200px); grid-auto-rows: 120px; gap: 30px; }
  button { font-size: 24px; }
</style></head><body>
<div class="grid">
${domOrder.map(id => `<button id="${id}" style="grid-row: ${cells[id][0]}; grid-column: ${cells[id][1]}"${id === 'A' ? ' data-autofocus' : ''}>${id}</button>`).join('\n')}
</div>
<div id="dialog" hidden><button id="X">X</button><button id="Y" data-autofocus>Y</button></div>
<script type="module">
  import { startFocusNavigation, onBack, onRemoteKey, openFocusScope } from '/focus-fixture/focus.js';
  window.backCalls = [];
  window.clicks = [];
  window.mediaActions = [];
  document.addEventListener('click', (event) => window.clicks.push(event.target.id));
  onBack((event) => window.backCalls.push('first:' + event.keyCode));
  window.pushSecondBack = () => { window.removeSecondBack = onBack((event) => window.backCalls.push('second:' + event.keyCode)); };
  onRemoteKey((action) => {
    if (['left', 'right', 'up', 'down', 'enter', 'back'].includes(action)) return false;
    window.mediaActions.push(action);
    return true;
  });
  window.openDialog = () => {
    const dialog = document.getElementById('dialog');
    dialog.hidden = false;
    const close = openFocusScope(dialog, { modal: true });
    window.closeDialog = () => { close(); dialog.hidden = true; };
  };
  startFocusNavigation();
  window.fixtureReady = true;
</script>
</body></html>`

/** GET with the path sent exactly as written (fetch would normalise the dot segments away). */
function rawGet(port: number, path: string): Promise<{ status: number; headers: Record<string, unknown>; body: string }> {
  return new Promise((resolve, reject) => {
    const req = request({ host: '127.0.0.1', port, path, method: 'GET' }, res => {
      let body = ''
      res.setEncoding('latin1')
      res.on('data', (chunk: string) => {
        body += chunk
      })
      res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body }))
    })
    req.on('error', reject)
    req.end()
  })
}

const activeId = (page: Page) => page.evaluate(() => document.activeElement?.id ?? '')

t.test('TV UI static files and focus navigation', async t => {
  const app = Fastify()
  await app.register(uiRoutes)
  app.get('/focus-fixture.html', async (_request, reply) => reply.type('text/html').send(fixtureHtml))
  // the module under test, from its source (the box serves only the bundles built from it)
  const focusModule = await readFile(new URL('../ui/focus.js', import.meta.url), 'utf8')
  app.get('/focus-fixture/focus.js', async (_request, reply) => reply.type('text/javascript').send(focusModule))
  await app.listen({ host: '127.0.0.1', port: 0 })
  t.teardown(() => app.close())
  const { port } = app.server.address() as AddressInfo
  const base = `http://127.0.0.1:${port}`

  t.test('serves the UI as its built scripts and stylesheets, and the font, and nothing else from node_modules', async t => {
    const index = await rawGet(port, '/')
    t.equal(index.status, 200)
    t.match(index.headers['content-type'], /^text\/html/)
    t.equal(index.headers['cache-control'], 'no-cache', 'index.html always revalidates')
    t.notMatch(index.body, /importmap|type="module"/, 'no import map or module script: the floor engines load one classic script')

    const pairPage = await rawGet(port, '/pair?code=ABCD2345')
    t.equal(pairPage.status, 200, 'the pairing page is served at /pair')
    t.match(pairPage.headers['content-type'], /^text\/html/)
    t.equal(pairPage.headers['cache-control'], 'no-cache')

    for (const [page, script, stylesheet] of [
      [index, '/app.js', '/styles.css'],
      [pairPage, '/pair.js', '/pair.css']
    ] as const) {
      t.match(page.body, `<script defer src="${script}"></script>`, `the page loads ${script}`)
      const built = await rawGet(port, script)
      t.equal(built.status, 200, `${script} is served`)
      t.match(built.headers['content-type'], /javascript/, `${script} is JavaScript`)
      t.equal(built.headers['cache-control'], 'no-cache', `${script} revalidates (it changes with each release)`)
      t.notMatch(built.body, /^\s*import\s/m, `${script} is a bundle: it imports nothing`)
      t.match(page.body, `<link rel="stylesheet" href="${stylesheet}" />`)
      t.equal((await rawGet(port, stylesheet)).status, 200, `${stylesheet} is served`)
    }

    const font = await rawGet(port, '/vendor/inter/files/inter-latin-400-normal.woff2')
    t.equal(font.status, 200)
    t.match(font.headers['content-type'], /font\/woff2/)
    const fontCss = await rawGet(port, '/vendor/inter/400.css')
    t.equal(fontCss.status, 200)
    t.match(fontCss.body, /@font-face/)

    for (const path of [
      '/vendor/preact/../../package.json',
      '/vendor/preact/..%2f..%2fpackage.json',
      '/vendor/preact/%2e%2e/%2e%2e/package.json',
      '/vendor/inter/../../preact/package.json',
      '/../package.json',
      '/vendor/inter/package.json',
      '/vendor/htm-preact/package.json'
    ]) {
      const refused = await rawGet(port, path)
      t.ok(refused.status === 403 || refused.status === 404, `${path} is refused (got ${refused.status})`)
      t.notMatch(refused.body, /"name"\s*:/, `${path} leaks no package.json`)
    }
  })

  const browser = await launchChromium()
  t.teardown(() => browser.close())

  t.test('arrow keys move focus to the spatially nearest element and stop at edges', async t => {
    const page = await newTvPage(browser)
    await page.goto(`${base}/focus-fixture.html`)
    await page.waitForFunction(() => (window as unknown as { fixtureReady?: boolean }).fixtureReady)
    await page.waitForFunction(() => document.activeElement?.id === 'A')

    const steps: [key: string, expected: string][] = [
      ['ArrowLeft', 'A'],
      ['ArrowUp', 'A'],
      ['ArrowRight', 'B'],
      ['ArrowRight', 'C'],
      ['ArrowRight', 'C'],
      ['ArrowDown', 'F'],
      ['ArrowDown', 'I'],
      ['ArrowDown', 'I'],
      ['ArrowLeft', 'H'],
      ['ArrowUp', 'E'],
      ['ArrowLeft', 'D'],
      ['ArrowLeft', 'D'],
      ['ArrowDown', 'G'],
      ['ArrowLeft', 'G'],
      ['ArrowDown', 'G'],
      ['ArrowUp', 'D'],
      ['ArrowUp', 'A']
    ]
    for (const [key, expected] of steps) {
      const from = await activeId(page)
      await page.keyboard.press(key)
      t.equal(await activeId(page), expected, `${key} from ${from} → ${expected}`)
    }
    await saveScreenshot(page, 'ui-focus-grid')

    await page.evaluate(() => document.getElementById('A')?.remove())
    await page.waitForFunction(() => document.activeElement instanceof HTMLButtonElement, undefined, { timeout: 2000 })
    t.not(await activeId(page), '', 'when the focused element leaves the page, something else takes focus')
  })

  t.test('Back keys (Escape, Backspace, webOS 461, Tizen 10009) run the latest back handler', async t => {
    const page = await newTvPage(browser)
    await page.goto(`${base}/focus-fixture.html`)
    await page.waitForFunction(() => (window as unknown as { fixtureReady?: boolean }).fixtureReady)
    const backCalls = () => page.evaluate(() => (window as unknown as { backCalls: string[] }).backCalls)

    await page.keyboard.press('Escape')
    await page.keyboard.press('Backspace')
    await pressKeyCode(page, 461)
    await pressKeyCode(page, 10009)
    await page.keyboard.press('ArrowDown')
    await page.keyboard.press('Enter')
    t.same(
      await backCalls(),
      ['first:27', 'first:8', 'first:461', 'first:10009'],
      'each Back key reached the handler once; arrows and Enter did not'
    )

    await page.evaluate(() => (window as unknown as { pushSecondBack: () => void }).pushSecondBack())
    await pressKeyCode(page, 461)
    await page.evaluate(() => (window as unknown as { removeSecondBack: () => void }).removeSecondBack())
    await page.keyboard.press('Escape')
    t.same((await backCalls()).slice(4), ['second:461', 'first:27'], 'the newest handler wins until it is removed')
  })

  t.test('remotes that send only key codes: arrows move, Enter clicks, media keys reach the screen', async t => {
    const page = await newTvPage(browser)
    await page.goto(`${base}/focus-fixture.html`)
    await page.waitForFunction(() => document.activeElement?.id === 'A')
    await pressKeyCode(page, 39)
    t.equal(await activeId(page), 'B', 'keyCode 39 (→) moved right')
    await pressKeyCode(page, 40)
    t.equal(await activeId(page), 'E', 'keyCode 40 (↓) moved down')
    await pressKeyCode(page, 13)
    t.same(await page.evaluate(() => (window as unknown as { clicks: string[] }).clicks), ['E'], 'keyCode 13 clicked the focused button')

    for (const keyCode of [415, 19, 10252, 412, 417, 413]) await pressKeyCode(page, keyCode)
    await page.keyboard.press('MediaPlayPause')
    t.same(
      await page.evaluate(() => (window as unknown as { mediaActions: string[] }).mediaActions),
      ['play', 'pause', 'playPause', 'rewind', 'fastForward', 'stop', 'playPause'],
      'media keys by code (webOS, Tizen) and by name'
    )
    t.equal(await activeId(page), 'E', 'and moved no focus')
  })

  t.test('a modal focus scope holds the remote, makes the page inert, and gives focus back', async t => {
    const page = await newTvPage(browser)
    await page.goto(`${base}/focus-fixture.html`)
    await page.waitForFunction(() => document.activeElement?.id === 'A')
    await page.keyboard.press('ArrowRight')
    await page.evaluate(() => (window as unknown as { openDialog: () => void }).openDialog())
    t.equal(await activeId(page), 'Y', 'the scope focused its [data-autofocus] element')
    await page.keyboard.press('ArrowLeft')
    t.equal(await activeId(page), 'X')
    for (const key of ['ArrowLeft', 'ArrowUp', 'ArrowDown']) {
      await page.keyboard.press(key)
      t.equal(await activeId(page), 'X', `${key} stays inside the scope`)
    }
    t.equal(await page.evaluate(() => document.querySelector('.grid')?.hasAttribute('inert')), true, 'the rest of the page is inert')
    await page.mouse.click(5, 5)
    await page.waitForFunction(() => document.activeElement?.closest('#dialog') !== null, undefined, { timeout: 2000 })
    t.pass('a click outside leaves focus in the scope')
    await page.keyboard.press('ArrowLeft')
    await page.evaluate(() => (window as unknown as { closeDialog: () => void }).closeDialog())
    t.equal(await activeId(page), 'B', 'closing gave focus back to the opener')
    t.equal(await page.evaluate(() => document.querySelector('.grid')?.hasAttribute('inert')), false, 'and the page is live again')
  })

  t.test('the real app loads its modules through the import map and focuses Retry when the API is missing', async t => {
    const page = await newTvPage(browser, { width: 1280, height: 720 })
    const pageErrors = collectPageErrors(page)
    await page.goto(`${base}/`)
    await page.waitForFunction(() => document.activeElement?.textContent === 'Retry', undefined, { timeout: 5000 })
    t.match(await page.textContent('h1'), /not available/)
    const fontFamily = await page.evaluate(async () => {
      await document.fonts.ready
      return [...document.fonts].some(face => face.family.replace(/"/g, '') === 'Inter' && face.status === 'loaded')
    })
    t.ok(fontFamily, 'Inter was loaded from /vendor/inter')
    t.same(pageErrors, [], 'no script errors')
    await saveScreenshot(page, 'ui-unavailable')
  })
})
