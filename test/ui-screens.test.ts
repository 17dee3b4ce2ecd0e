// Every screen and dialog of the TV UI, in real Chromium against a real box, driven by the keyboard:
// each has a focused element when it appears (empty states and errors too), Back from each lands where
// it should, and axe-core finds no serious or critical accessibility violation. Also: the first boot's
// disk consent, the pairing page's paste-a-signature path, content classes with developer mode, the
// settings saved from the remote, a guest TV signing in, unpairing, and the screens at 1280x720.
import t from 'tap'
import { mkdir, readFile, writeFile } from 'node:fs/promises'
import path from 'node:path'
import { parseEther } from 'ethers'
import type { Page } from 'playwright-core'
import { decisionFile } from '../server/appliance/disk-consent.ts'
import {
  collectPageErrors,
  describeFocus,
  launchChromium,
  newTvPage,
  pressKeyCode,
  saveScreenshot,
  seriousAxeViolations,
  textsSmallerThan,
  waitForFocus
} from './helpers/chromium.ts'
import { connectDevnet } from './helpers/devnet.ts'
import { buyFilm, registerFilm, transferFilm } from './helpers/films.ts'
import { getJson, libraryFilms } from './helpers/http.ts'
import { signedInCookie } from './helpers/owner-session.ts'
import { testDir, type Test } from './helpers/in-process.ts'
import { messageFor, sendSignature } from './helpers/pairing-client.ts'
import { publishClip, startTvWorld } from './helpers/tv-world.ts'
import { waitFor } from './helpers/wait-for.ts'

const GIB = 1024 ** 3

// The first boot found a USB disk holding data (as the image's data-disk.sh records it).
const applianceDir = testDir(t, 'appliance')
await mkdir(applianceDir, { recursive: true })
const diskStateFile = path.join(applianceDir, 'disk-state.json')
const disk = {
  id: '0123456789abcdef',
  path: '/dev/sda',
  model: 'Samsung T7',
  serial: 'S5XYNS0R',
  sizeBytes: 500 * 1000 ** 3,
  fstype: null,
  label: null,
  partitions: [{ name: 'sda1', sizeBytes: 500 * 1000 ** 3, fstype: 'exfat', label: 'Photos' }]
}
const recordDiskState = async (state: string) =>
  await writeFile(diskStateFile, JSON.stringify({ state, disk, message: `disk ${state}`, updatedAt: new Date().toISOString() }))
await recordDiskState('pending')

const world = await startTvWorld(t, { diskStateFile })
const { box } = world
const contract = world.devnet.contractAddress
const shortFilm = await publishClip(t, world, { title: 'Short Pattern', seconds: 40, contentClass: 'demo' })
// 100 tokens of a film reach its first distribution tier (small venue)
const stacked = await registerFilm({ custodian: world.custodian, creator: world.creator, contractAddress: contract })
await (await connectDevnet(t, world.devnet).owner.getFunction('buy')(stacked.tokenId, 100, { value: parseEther('0.01') * 100n })).wait()
const testFilm = await registerFilm({ custodian: world.custodian, creator: world.creator, contractAddress: contract, contentClass: 'test' })
await buyFilm(world.owner, contract, testFilm.tokenId)

const browser = await launchChromium()
t.teardown(() => browser.close())
const tv = await newTvPage(browser)
const pageErrors = collectPageErrors(tv)

/** The screen has the expected element focused, axe finds nothing serious, no text is too small for the sofa, and a screenshot is kept. */
async function checkScreen(t: Test, page: Page, name: string, focused: string): Promise<void> {
  await waitForFocus(page, focused)
  t.pass(`${name}: ${focused} has focus`)
  t.same(await seriousAxeViolations(page), [], `${name}: no serious or critical accessibility violations`)
  const size = page.viewportSize()
  const minPx = (24 * (size?.height ?? 1080)) / 1080
  t.same(await textsSmallerThan(page, minPx), [], `${name}: no text under ${minPx} px (24 px at 1080p)`)
  await saveScreenshot(page, `screens-${name}-${size?.width}`)
}

/** Presses `key` until the focused element has `focusKey` (at most `limit` presses). */
async function moveTo(page: Page, key: string, focusKey: string, limit = 8): Promise<void> {
  for (let step = 0; step < limit && (await describeFocus(page)).focusKey !== focusKey; step++) await page.keyboard.press(key)
  const focus = await describeFocus(page)
  if (focus.focusKey !== focusKey) throw new Error(`${key} did not reach ${focusKey}; focus is on ${JSON.stringify(focus)}`)
}

const pairingCode = async (page: Page) => (await page.locator('.pairing-code-char').allTextContents()).join('')

t.test('first boot: a disk holding data waits for the owner, Keep is focused, Erase asks again', async t => {
  await tv.goto(`${box.url}/`)
  await checkScreen(t, tv, 'disk-consent', '.button-secondary')
  t.equal((await describeFocus(tv)).text, 'Keep its data', 'the safe choice has focus')
  t.match(await tv.textContent('.disk'), /Samsung T7 · 466 GB.*sda1.*“Photos” · exfat/)

  await tv.keyboard.press('ArrowRight')
  await tv.keyboard.press('Enter')
  await checkScreen(t, tv, 'disk-erase-dialog', '.dialog .button-secondary')
  t.equal(await tv.textContent('.dialog-title'), 'Erase Samsung T7?')
  await tv.keyboard.press('ArrowLeft')
  t.equal((await describeFocus(tv)).text, 'Cancel', 'the remote stays inside the dialog')
  await tv.keyboard.press('Escape')
  await waitForFocus(tv, '.button-danger')
  t.equal(await tv.locator('.dialog').count(), 0, 'Back closed the dialog, focus is back on what opened it')

  await tv.keyboard.press('Enter')
  await waitForFocus(tv, '.dialog .button-secondary')
  await tv.keyboard.press('ArrowRight')
  await tv.keyboard.press('Enter')
  await checkScreen(t, tv, 'disk-applying', '.state[role="status"]')
  const decision = JSON.parse(await readFile(decisionFile(world.boxDir), 'utf8'))
  t.match(decision, { decision: 'erase', diskId: disk.id }, 'the decision was handed to the root script')

  await recordDiskState('ready') // what the root script records once the disk is prepared
  await waitForFocus(tv, '.pairing-code', 30_000)
  t.pass('the TV moved on to pairing by itself')
})

t.test('pairing screen, and the pairing page signed by hand (a wallet without an injected provider)', async t => {
  await checkScreen(t, tv, 'pairing', '.pairing-code')
  const code = await pairingCode(tv)

  const phone = await newTvPage(browser, { width: 390, height: 844 })
  await phone.goto(`${box.url}/pair?code=${code}`)
  await phone.getByText('No wallet was found in this browser').waitFor()
  t.same(await seriousAxeViolations(phone), [], 'pairing page: no serious or critical accessibility violations')
  await phone.check('#code-checked')
  await phone.fill('#address', world.owner.address)
  await phone.getByRole('button', { name: 'Show the message to sign' }).click()
  await phone.locator('#message').waitFor()
  const message = await phone.inputValue('#message')
  const withoutTime = (text: string) => text.replace(/\n(Issued At|Expiration Time): [^\n]*/g, '')
  t.equal(
    withoutTime(message),
    withoutTime(await messageFor(box.url, world.owner.address, code)),
    'the page shows the message the box wants signed'
  )
  await phone.fill('#signature', await world.owner.signMessage(message))
  t.same(await seriousAxeViolations(phone), [], 'pairing page with the message: no serious or critical violations')
  await saveScreenshot(phone, 'screens-pair-page-by-hand')
  await phone.getByRole('button', { name: 'Send the signature' }).click()
  await phone.getByRole('heading', { name: 'Paired' }).waitFor({ timeout: 30_000 })
  await phone.context().close()
  await waitForFocus(tv, '.card', 30_000)
  t.pass('the TV moved on to the library by itself')
})

t.test('home: films with their state and tier; test content hidden without developer mode', async t => {
  await tv.locator(`.card-ready[data-token-id="${shortFilm}"]`).waitFor({ timeout: 120_000 })
  await tv.locator(`.card-ready[data-token-id="${stacked.tokenId}"]`).waitFor({ timeout: 60_000 })
  // a film is listed as pending until its metadata says what it is; then the box hides a test film, and the TV at its next poll
  const screen = await signedInCookie(box.url, world.owner)
  await waitFor(
    'the box to hide the test film',
    async () => !(await libraryFilms(box.url, screen)).some(film => film.tokenId === testFilm.tokenId),
    {
      timeoutMs: 30_000
    }
  )
  t.pass('the test film is not listed by the box')
  await tv.locator(`.card[data-token-id="${testFilm.tokenId}"]`).waitFor({ state: 'detached', timeout: 30_000 })
  await checkScreen(t, tv, 'home', '.card')
  t.equal(await tv.locator(`.card[data-token-id="${testFilm.tokenId}"]`).count(), 0, 'nor shown by the TV')
  t.equal(await tv.locator(`.card[data-token-id="${shortFilm}"] .badge-class`).textContent(), 'Demo')
  t.equal(
    await tv.locator(`.card[data-token-id="${stacked.tokenId}"] .badge-tier`).textContent(),
    'Small venue',
    'tier badge above personal'
  )
  t.equal(await tv.locator(`.card[data-token-id="${shortFilm}"] .badge-tier`).count(), 0, 'no tier badge for a personal licence')
})

t.test('film page: Play has focus, rights and copies are shown, Back returns to the card', async t => {
  // the first card: ArrowLeft reaches it from whichever card has focus (the one focused first may be a film hidden since)
  await moveTo(tv, 'ArrowLeft', `film:${stacked.tokenId}`)
  await tv.keyboard.press('Enter')
  await checkScreen(t, tv, 'film-stacked', '[data-focus-key="play"]')
  t.match(await tv.textContent('.film-info'), /Small venue.*100 tokens held\..*Screen it in public at a small venue/)
  t.match(await tv.textContent('.film-info'), /This box.*Stored on this box.*Network/)
  await tv.keyboard.press('Backspace')
  await waitForFocus(tv, `[data-focus-key="film:${stacked.tokenId}"]`)
  t.pass('Backspace went back to the card')
})

t.test('player: the seek bar has focus; a menu holds the remote until Back; Back leaves the player', async t => {
  await moveTo(tv, 'ArrowRight', `film:${shortFilm}`)
  await tv.keyboard.press('Enter')
  await waitForFocus(tv, '[data-focus-key="play"]')
  await tv.keyboard.press('Enter')
  await tv.waitForFunction(() => (document.querySelector('video')?.readyState ?? 0) >= 2, undefined, { timeout: 30_000 })
  await checkScreen(t, tv, 'player', '.seekbar')

  await pressKeyCode(tv, 19) // Pause, keyCode only
  await tv.waitForFunction(() => document.querySelector('video')?.paused === true)
  t.pass('Pause (19) paused')
  await tv.keyboard.press('ArrowDown')
  await moveTo(tv, 'ArrowRight', 'subtitles')
  await tv.keyboard.press('Enter')
  await checkScreen(t, tv, 'player-menu', '.menu-item[aria-checked="true"]')
  await tv.keyboard.press('ArrowUp')
  await tv.keyboard.press('ArrowUp')
  await tv.keyboard.press('ArrowLeft')
  t.equal((await describeFocus(tv)).className, 'menu-item', 'the remote stays in the menu')
  await pressKeyCode(tv, 10009) // Tizen Back
  await waitForFocus(tv, '[data-focus-key="subtitles"]')
  await pressKeyCode(tv, 415) // Play
  await tv.waitForFunction(() => document.querySelector('video')?.paused === false)
  t.pass('Play (415) played')
  await tv.keyboard.press('Escape')
  await waitForFocus(tv, '[data-focus-key="play"]')
  t.pass('Back left the player for the film page')
  await tv.keyboard.press('Escape')
  await waitForFocus(tv, `[data-focus-key="film:${shortFilm}"]`)
})

t.test('settings from the remote: choices and switches are saved; developer mode shows test content, labelled', async t => {
  await tv.keyboard.press('ArrowUp')
  await moveTo(tv, 'ArrowRight', 'settings')
  await tv.keyboard.press('Enter')
  await checkScreen(t, tv, 'settings', '[data-focus-key="replication"]')
  const facts = (await tv.textContent('.facts-table')) ?? ''
  t.match(facts, "Paired with the owner's wallet", 'the owner is named in words')
  t.notMatch(facts, /0x[0-9a-f]{4}|12D3Koo|Chain \d/i, 'no wallet address, device id or chain on the settings screen')

  const settingsBecome = async (what: string, check: (settings: any) => boolean) =>
    await waitFor(`the box to hold ${what}`, async () => check(await getJson(`${box.url}/api/settings`)), { timeoutMs: 10_000 })
  await tv.keyboard.press('ArrowDown')
  t.equal((await describeFocus(tv)).focusKey, 'quota')
  await tv.keyboard.press('ArrowRight')
  await settingsBecome('the next quota step', settings => settings.storageQuotaBytes === 100 * GIB)
  t.pass('→ raised the quota to the next step, saved')
  t.equal((await describeFocus(tv)).focusKey, 'quota', '← and → change the value, not the focus')
  await tv.locator('.topbar-note', { hasText: 'Saved' }).waitFor()

  await moveTo(tv, 'ArrowDown', 'quiet-hours')
  await tv.keyboard.press('Enter')
  await tv.keyboard.press('ArrowDown')
  t.equal((await describeFocus(tv)).focusKey, 'quiet-start', 'switching quiet hours on shows their times')
  await tv.keyboard.press('ArrowLeft')
  await settingsBecome('quiet hours from 22:30', settings => settings.replication.quietHours?.start === '22:30')
  t.same(
    (await getJson(`${box.url}/api/settings`)).replication.quietHours,
    { start: '22:30', end: '07:00' },
    'quiet hours on, start moved back'
  )

  await moveTo(tv, 'ArrowDown', 'developer-mode')
  await tv.keyboard.press('Enter')
  await settingsBecome('developer mode', settings => settings.developerMode === true)
  t.pass('developer mode switched on')
  await saveScreenshot(tv, 'screens-settings-changed-1920')

  // the pairing's end date, and its renewal through a code of the TV's own
  await moveTo(tv, 'ArrowDown', 'renew')
  t.match(await tv.textContent('[data-screen="settings"]'), /Authorised until/, 'settings show when the authorisation ends')
  await tv.keyboard.press('Enter')
  await tv.getByRole('heading', { name: 'Renew the pairing' }).waitFor({ timeout: 10_000 })
  t.match(await tv.locator('.pairing-code').getAttribute('aria-label'), /^Pairing code( \w){8}$/, 'with a code of its own to sign')
  await saveScreenshot(tv, 'screens-renew-1920')
  await tv.keyboard.press('Escape')
  await tv.locator('[data-screen="settings"]').waitFor({ timeout: 10_000 })

  await tv.keyboard.press('Escape')
  await waitForFocus(tv, '[data-focus-key="settings"]')
  t.pass('Back went home, to the Settings button')
  const label = tv.locator(`.card[data-token-id="${testFilm.tokenId}"] .badge-class`)
  await label.waitFor({ timeout: 15_000 })
  t.equal(await label.textContent(), 'Test', 'with developer mode the test film is shown, labelled')
  await saveScreenshot(tv, 'screens-home-developer-mode-1920')
})

t.test('a sold film is locked: its card says so, and its page offers only the way back', async t => {
  await transferFilm(world.owner, world.devnet.accounts.otherCollector.address, contract, testFilm.tokenId)
  const card = tv.locator(`.card-locked[data-token-id="${testFilm.tokenId}"]`)
  await card.waitFor({ timeout: 30_000 })
  t.match(await card.textContent(), 'Locked — sold')
  t.equal(await card.locator('.card-lock').count(), 1, 'with a padlock')
  await saveScreenshot(tv, 'screens-home-locked-1920')

  await tv.keyboard.press('ArrowDown') // from Settings, at the right, to the last card
  await moveTo(tv, 'ArrowLeft', `film:${testFilm.tokenId}`)
  await tv.keyboard.press('Enter')
  await checkScreen(t, tv, 'film-locked', '.actions .button-secondary')
  t.equal((await describeFocus(tv)).text, 'Library', 'nothing to play: the way back has focus')
  t.equal(await tv.locator('[data-focus-key="play"]').count(), 0, 'no Play')
  await tv.keyboard.press('Enter')
  await waitForFocus(tv, `[data-focus-key="film:${testFilm.tokenId}"]`)
  t.pass('Library went back to the card')
  await tv.keyboard.press('ArrowUp')
  await moveTo(tv, 'ArrowRight', 'settings')
})

t.test('health: a chart for each figure, focus on the first, Back to the Health button', async t => {
  await tv.keyboard.press('ArrowLeft')
  t.equal((await describeFocus(tv)).focusKey, 'health')
  await tv.keyboard.press('Enter')
  await checkScreen(t, tv, 'health', '[data-focus-key="temperature"]')
  t.same(await tv.locator('.metric-title').allTextContents(), [
    'CPU temperature',
    'CPU load',
    'Memory',
    'Disk',
    'Network in',
    'Network out'
  ])
  t.ok(await tv.locator('.metric .chart-line').count(), 'charts are drawn')
  await tv.keyboard.press('ArrowRight')
  t.equal((await describeFocus(tv)).focusKey, 'load')
  await moveTo(tv, 'ArrowDown', 'details')
  await tv.keyboard.press('Enter')
  const details = (await tv.locator('.health-details .facts-table').textContent()) ?? ''
  t.match(details, world.owner.address, 'technical details name the wallet')
  t.match(details, box.identity.deviceId, 'the device id')
  t.match(details, /Chain 31337, block \d+/, 'and the chain')
  t.same(await textsSmallerThan(tv, 24), [], 'technical details: no text under 24 px')
  await saveScreenshot(tv, 'screens-health-details-1920')
  await tv.keyboard.press('Escape')
  await waitForFocus(tv, '[data-focus-key="health"]')
})

t.test('errors and empty states have a focused action', async t => {
  await tv.route('**/api/library', route => route.fulfill({ status: 503, contentType: 'application/json', body: '{"message":"busy"}' }))
  await tv.reload()
  await checkScreen(t, tv, 'library-error', '.state .button-primary')
  t.equal((await describeFocus(tv)).text, 'Retry')
  await tv.unroute('**/api/library')
  await tv.route('**/api/library', route =>
    route.fulfill({ status: 200, contentType: 'application/json', body: '{"films":[],"continueWatching":[]}' })
  )
  await tv.keyboard.press('Enter')
  await checkScreen(t, tv, 'library-empty', '.state .button-primary')
  t.equal((await describeFocus(tv)).text, 'Refresh')
  await tv.unroute('**/api/library')
  await tv.keyboard.press('Enter')
  await waitForFocus(tv, '.card')
  t.pass('Refresh brings the films back')

  await tv.goto(`${box.url}/#/film/999999`)
  await checkScreen(t, tv, 'film-missing', '.state .button-primary')
  await tv.keyboard.press('Escape')
  await waitForFocus(tv, '.card')
  t.pass('Back from a missing film goes home')
})

t.test('a guest TV at 1280x720: no films, settings read-only, it signs in from its own code, then every screen fits', async t => {
  const guest = await newTvPage(browser, { width: 1280, height: 720 })
  const guestErrors = collectPageErrors(guest)
  await guest.goto(`${box.url}/`)
  await checkScreen(t, guest, 'home-guest', '.state [data-focus-key="sign-in"]')
  t.equal(await guest.locator('.card').count(), 0, 'a guest sees no film')
  t.equal(await guest.locator('.topbar .mono').count(), 0, "nor the owner's wallet")
  await guest.keyboard.press('Enter')
  await checkScreen(t, guest, 'sign-in', '.pairing-code')
  await guest.keyboard.press('Escape')
  await waitForFocus(guest, '[data-focus-key="sign-in"]')
  t.pass('Back from signing in goes home')

  await moveTo(guest, 'ArrowRight', 'settings')
  await guest.keyboard.press('Enter')
  await checkScreen(t, guest, 'settings-guest', '.notice [data-focus-key="sign-in"]')
  await guest.keyboard.press('ArrowDown')
  await guest.keyboard.press('Enter')
  t.equal((await getJson(`${box.url}/api/settings`)).replication.enabled, true, 'a guest changes nothing')

  await guest.keyboard.press('ArrowUp')
  await guest.keyboard.press('Enter')
  await waitForFocus(guest, '.pairing-code')
  const code = await pairingCode(guest)
  const signed = await sendSignature(box.url, await messageFor(box.url, world.owner.address, code), world.owner)
  t.equal(signed.status, 200, 'the owner signed this TV in from a phone')
  // signing in is one level below home, and focus returns to the button home was left from
  await waitForFocus(guest, '[data-screen="home"] [data-focus-key="settings"]', 30_000)
  t.equal(await guest.locator('[data-focus-key="sign-in"]').count(), 0, 'signed in: no Sign in button')

  await guest.keyboard.press('ArrowDown')
  await checkScreen(t, guest, 'home', '.card')
  await moveTo(guest, 'ArrowRight', `film:${shortFilm}`)
  await guest.keyboard.press('Enter')
  await checkScreen(t, guest, 'film', '[data-focus-key="play"]')
  await guest.keyboard.press('Enter')
  await guest.waitForFunction(() => (document.querySelector('video')?.readyState ?? 0) >= 2, undefined, { timeout: 30_000 })
  await checkScreen(t, guest, 'player', '.seekbar')
  await pressKeyCode(guest, 413) // Stop
  await waitForFocus(guest, '[data-focus-key="play"]')
  t.pass('Stop (413) left the player')
  await guest.keyboard.press('Escape')
  await waitForFocus(guest, `[data-focus-key="film:${shortFilm}"]`)
  await guest.keyboard.press('ArrowUp')
  await moveTo(guest, 'ArrowRight', 'settings')
  await guest.keyboard.press('Enter')
  await checkScreen(t, guest, 'settings', '[data-focus-key="replication"]')
  await guest.keyboard.press('Escape')
  await waitForFocus(guest, '[data-focus-key="settings"]')
  await guest.keyboard.press('ArrowLeft')
  await guest.keyboard.press('Enter')
  await checkScreen(t, guest, 'health', '[data-focus-key="temperature"]')
  t.same(guestErrors, [], 'no script errors on the guest TV')
  await guest.context().close()
})

t.test('unpair: Cancel has focus, Back closes the dialog, Unpair returns the box to pairing', async t => {
  await tv.keyboard.press('ArrowUp')
  await moveTo(tv, 'ArrowRight', 'settings')
  await tv.keyboard.press('Enter')
  await waitForFocus(tv, '[data-focus-key="replication"]')
  await moveTo(tv, 'ArrowDown', 'unpair', 10)
  await tv.keyboard.press('Enter')
  await checkScreen(t, tv, 'unpair-dialog', '.dialog .button-secondary')
  t.equal((await describeFocus(tv)).text, 'Cancel')
  await tv.keyboard.press('Escape')
  await waitForFocus(tv, '[data-focus-key="unpair"]')
  t.equal(await tv.locator('.dialog').count(), 0, 'Back closed the dialog')
  t.equal((await getJson(`${box.url}/api/status`)).paired, true, 'and nothing changed')

  await tv.keyboard.press('Enter')
  await waitForFocus(tv, '.dialog .button-secondary')
  await tv.keyboard.press('ArrowRight')
  await tv.keyboard.press('Enter')
  await waitForFocus(tv, '.pairing-code', 30_000)
  t.equal((await getJson(`${box.url}/api/status`)).paired, false, 'the box is unpaired')
  await checkScreen(t, tv, 'pairing-after-unpair', '.pairing-code')
  t.same(pageErrors, [], 'no script errors on the TV')
})
