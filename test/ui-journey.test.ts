// The TV experience end to end, keyboard only, at 1920x1080, in real Chromium against a real box:
// an unpaired box shows its code → the owner's phone (a second browser with an injected wallet backed
// by a devnet key) opens the pairing page and signs → the TV moves on by itself to the library → arrows
// to the film → Enter → play → seek with remote keys → subtitles (on from the start) off → Back → Continue watching shows the
// film at the saved position → Resume starts there. Screenshots of each screen go to test-artifacts/.
import t from 'tap'
import type { Page } from 'playwright-core'
import { buyFilm, registerFilm, transferFilm } from './helpers/films.ts'
import {
  collectPageErrors,
  describeFocus,
  injectWallet,
  launchChromium,
  newTvPage,
  pressKeyCode,
  saveScreenshot,
  signInTv,
  waitForFocus
} from './helpers/chromium.ts'
import { libraryFilm } from './helpers/http.ts'
import { signedInCookie } from './helpers/owner-session.ts'
import { testDir } from './helpers/in-process.ts'
import { loadOrCreateDeviceIdentity } from '../server/identity/device-identity.ts'
import { publishClip, startTvWorld } from './helpers/tv-world.ts'
import { waitFor } from './helpers/wait-for.ts'

const LONG_FILM_SECONDS = 330 // past 5 minutes: resume is offered (Jellyfin's rule)

const world = await startTvWorld(t)
const { box } = world
const longFilm = await publishClip(t, world, { title: 'Long Pattern', seconds: LONG_FILM_SECONDS })
// a second film before it in the grid (titles sort), so reaching the long one takes the arrows
const other = await registerFilm({ custodian: world.custodian, creator: world.creator, contractAddress: world.devnet.contractAddress })
await buyFilm(world.owner, world.devnet.contractAddress, other.tokenId)

const browser = await launchChromium()
t.teardown(() => browser.close())
const tv = await newTvPage(browser)
const pageErrors = collectPageErrors(tv)

const video = (page: Page) =>
  page.evaluate(() => {
    const v = document.querySelector('video')
    return v === null
      ? null
      : {
          time: v.currentTime,
          readyState: v.readyState,
          paused: v.paused,
          seeking: v.seeking,
          width: v.videoWidth,
          error: v.error?.code ?? null
        }
  })

/** Waits until the video plays at or past `seconds` (decoded frames, not seeking). */
async function waitForVideoAt(page: Page, seconds: number, timeout = 30_000): Promise<number> {
  await page.waitForFunction(
    at => {
      const v = document.querySelector('video')
      return v !== null && v.readyState >= 2 && !v.seeking && v.currentTime >= at
    },
    seconds,
    { timeout }
  )
  return ((await video(page)) as { time: number }).time
}

t.test('the unpaired box shows a code and a QR code, with focus on the code', async t => {
  await tv.goto(`${box.url}/`)
  await waitForFocus(tv, '.pairing-code')
  const code = (await tv.locator('.pairing-code-char').allTextContents()).join('')
  t.match(code, /^[A-Z0-9]{8}$/, 'an 8-character code')
  t.equal(await tv.locator('.pairing-code').getAttribute('aria-label'), `Pairing code ${code.split('').join(' ')}`)
  await tv.waitForFunction(() => ((document.querySelector('.pairing-qr img') as HTMLImageElement | null)?.naturalWidth ?? 0) > 0)
  t.pass('the QR code image loaded')
  await saveScreenshot(tv, 'journey-1-pairing')
})

t.test('the owner signs on the phone, and the TV moves on to the library by itself', async t => {
  const code = (await tv.locator('.pairing-code-char').allTextContents()).join('')
  const pairPage = `${await tv.locator('.pairing-url').textContent()}?code=${code}`
  t.match(pairPage, new RegExp(`^${box.url}/pair\\?code=${code}$`), 'the TV names the pairing page on this box')

  const phone = await newTvPage(browser, { width: 390, height: 844 })
  await injectWallet(phone, world.owner)
  await phone.goto(pairPage)
  t.equal(await phone.inputValue('#code'), code, 'the page took the code from the address')
  // a guest could send the owner this link for the guest's own screen: the page shows the code and signs only once checked
  t.match(await phone.textContent('.code-check'), `${code.slice(0, 4)} ${code.slice(4)}`, 'the page shows the code it is about to sign')
  t.equal(
    await phone.getByRole('button', { name: 'Sign with my wallet' }).isDisabled(),
    true,
    'nothing is signed before the code is checked'
  )
  await saveScreenshot(phone, 'journey-2a-phone-code-check')
  await phone.check('#code-checked')
  await phone.getByRole('button', { name: 'Sign with my wallet' }).click()
  await phone.getByRole('heading', { name: 'Paired' }).waitFor({ timeout: 30_000 })
  t.match(await phone.textContent('.lead'), world.owner.address, 'the phone says which wallet owns the box now')
  await saveScreenshot(phone, 'journey-2-phone-paired')
  await phone.context().close()

  // no key pressed on the TV: its poll signs it in and the library appears with a film focused
  await waitForFocus(tv, '.card', 30_000)
  t.match(await tv.evaluate(async () => (await (await fetch('/api/session')).json()).signedIn), true, 'the TV is signed in')
  await tv.locator(`.card.card-ready[data-token-id="${longFilm}"]`).waitFor({ timeout: 120_000 })
  await saveScreenshot(tv, 'journey-3-home')
})

t.test('the owner revokes a lost box from the phone page, and the custodian of their films is told', async t => {
  const lostBox = await loadOrCreateDeviceIdentity(testDir(t, 'lost-box'))
  const phone = await newTvPage(browser, { width: 390, height: 844 })
  await injectWallet(phone, world.owner)
  await phone.goto(`${box.url}/pair`)
  await phone.getByRole('button', { name: 'Revoke a device…' }).click()
  await phone.fill('#revoke-device', lostBox.deviceId)
  await phone.getByRole('button', { name: 'Sign the revocation' }).click()
  await phone.getByText('Revoked at').waitFor({ timeout: 30_000 })
  t.match(await phone.textContent('[role="status"]'), world.custodian.url, "the custodian of the owner's films holds the revocation")
  await saveScreenshot(phone, 'journey-2b-phone-revoked')
  await phone.context().close()
})

t.test('arrows reach the film, Enter opens it, Enter plays it', async t => {
  for (let step = 0; step < 4 && (await describeFocus(tv)).focusKey !== `film:${longFilm}`; step++) await tv.keyboard.press('ArrowRight')
  t.equal((await describeFocus(tv)).focusKey, `film:${longFilm}`, 'the long film has focus')

  await tv.keyboard.press('Enter')
  await tv.locator('.film-title', { hasText: 'Long Pattern' }).waitFor({ timeout: 10_000 })
  await waitForFocus(tv, '[data-focus-key="play"]')
  t.pass('the film page opens with Play focused')
  await saveScreenshot(tv, 'journey-4-film')

  await tv.keyboard.press('Enter')
  await waitForVideoAt(tv, 1)
  const playing = await video(tv)
  t.match(playing, { width: 320, error: null, paused: false }, 'decoded video from the decrypted stream')
  await waitForFocus(tv, '.seekbar')
  t.pass('the seek bar has focus')
  const looks = await tv.evaluate(() => ({
    seekbarRing: getComputedStyle(document.querySelector('.seekbar') as Element).boxShadow,
    idleControls: [...new Set(Array.from(document.querySelectorAll('.control')).map(control => getComputedStyle(control).backgroundColor))]
  }))
  t.match(looks.seekbarRing, /^rgb\(255, 255, 255\) 0px 0px 0px \d/, 'the focused seek bar has the white ring of focus')
  t.equal(looks.idleControls.length, 1, `no idle control looks selected: one background for all (${looks.idleControls.join(' / ')})`)
  await saveScreenshot(tv, 'journey-5-player')
})

t.test('remote keys seek: media keys, keyCode-only arrows, scrubbing with thumbnails, ±60 s', async t => {
  let before = ((await video(tv)) as { time: number }).time
  await pressKeyCode(tv, 417) // fast-forward, as webOS and Tizen remotes send it
  let after = await waitForVideoAt(tv, before + 9)
  t.ok(after >= before + 9, `fast-forward jumped 10 s (${before.toFixed(1)} → ${after.toFixed(1)})`)

  // scrubbing on the seek bar: a preview with the frame from the thumbnail sheet, then one seek
  before = after
  await tv.keyboard.press('ArrowRight')
  await tv.keyboard.press('ArrowRight')
  await tv.keyboard.press('ArrowRight')
  await tv.locator('.seek-preview-frame[data-sheet="0"]').waitFor()
  t.pass('the preview shows a tile of the first thumbnail sheet')
  await saveScreenshot(tv, 'journey-6-scrub')
  after = await waitForVideoAt(tv, before + 28)
  t.ok(after >= before + 28, `scrubbing 3 steps seeked 30 s (${before.toFixed(1)} → ${after.toFixed(1)})`)

  // the controls fall asleep; then a remote that sends only keyCodes still seeks with ←/→
  await tv.locator('.player-asleep').waitFor({ timeout: 15_000 })
  before = ((await video(tv)) as { time: number }).time
  await pressKeyCode(tv, 39)
  after = await waitForVideoAt(tv, before + 9)
  t.ok(after >= before + 9, `keyCode-only → jumped 10 s (${before.toFixed(1)} → ${after.toFixed(1)})`)
  t.notOk(await tv.locator('.player-asleep').count(), 'and woke the controls')

  // Down to the buttons, → to +60, Enter
  await tv.keyboard.press('ArrowDown')
  for (let step = 0; step < 5 && (await describeFocus(tv)).focusKey !== 'forward-60'; step++) await tv.keyboard.press('ArrowRight')
  t.equal((await describeFocus(tv)).focusKey, 'forward-60')
  before = ((await video(tv)) as { time: number }).time
  await tv.keyboard.press('Enter')
  after = await waitForVideoAt(tv, before + 58)
  t.ok(after >= before + 58, `+60 jumped a minute (${before.toFixed(1)} → ${after.toFixed(1)})`)
})

t.test("subtitles start on the film's default track, Off from their menu; the audio menu lists the track; Back closes a menu", async t => {
  await tv.keyboard.press('ArrowRight')
  t.equal((await describeFocus(tv)).text, 'Subtitles: English', 'the track publish was given is the default: on from the start')
  await tv.locator('.subtitle-line').first().waitFor({ timeout: 15_000 })
  t.match(
    await tv.locator('.subtitles').textContent(),
    /Seed One demo, subtitle \d+\.This film is 330 seconds long\./,
    'an English cue is showing'
  )
  t.equal(await tv.evaluate(() => document.querySelector('video')?.textTracks[0].mode), 'hidden', 'drawn by the player, not the browser')
  await saveScreenshot(tv, 'journey-7-subtitles')
  await tv.keyboard.press('Enter')
  await waitForFocus(tv, '.menu-item[aria-checked="true"]')
  t.equal((await describeFocus(tv)).text, '✓English', 'the menu opens on the current choice')
  await tv.keyboard.press('ArrowUp')
  await tv.keyboard.press('Enter')
  await waitForFocus(tv, '[data-focus-key="subtitles"]')
  t.equal((await describeFocus(tv)).text, 'Subtitles: Off', 'focus is back on the button, which names the choice')
  await tv.locator('.subtitles').waitFor({ state: 'detached', timeout: 15_000 })
  t.pass('no cue is shown once they are off')

  await tv.keyboard.press('ArrowRight')
  t.match((await describeFocus(tv)).text, /^Audio: /, 'the audio button follows')
  await tv.keyboard.press('Enter')
  await waitForFocus(tv, '.menu-item')
  t.equal(await tv.locator('.menu-item').count(), 1, 'one audio track in this film')
  await tv.keyboard.press('Escape')
  await waitForFocus(tv, '[data-focus-key="audio"]')
  t.equal(await tv.locator('.menu').count(), 0, 'Back closed the menu and left the player open')
})

let savedAt = 0
let savedDuration = 0

t.test('the position is saved while playing and on Back, and the film page offers Resume', async t => {
  const screen = await signedInCookie(box.url, world.owner)
  const savedPlayback = async () => (await libraryFilm(box.url, longFilm, screen))?.playback ?? undefined
  /** The next save after `after` (seconds into the film): the position moves on while playing. */
  const nextSave = async (what: string, after: number) =>
    await waitFor(
      what,
      async () => {
        const playback = await savedPlayback()
        return playback !== undefined && playback.positionSec > after && playback
      },
      { timeoutMs: 20_000 }
    )
  // the seeks above were saved too: wait for two saves of steady playing
  const seen = (await savedPlayback())?.positionSec ?? 0
  const first = await nextSave('a save while playing', seen)
  // the TV loses its CSRF secret (a cleared cookie): the box refuses the next save with a CSRF code
  // (FST_CSRF_MISSING_SECRET), and the UI, recognising the code, fetches a new token and saves again
  await tv.context().clearCookies({ name: '_csrf' })
  const next = await nextSave('the save after it', first.positionSec)
  const gap = next.positionSec - first.positionSec
  t.ok(gap > 0 && gap <= 10, `saved every few seconds while playing (${first.positionSec} s, then ${next.positionSec} s)`)

  const leftAt = ((await video(tv)) as { time: number }).time
  await tv.keyboard.press('Escape')
  await waitForFocus(tv, '[data-focus-key="resume"]')
  const film = await libraryFilm(box.url, longFilm, screen)
  savedAt = film?.playback?.positionSec ?? 0
  savedDuration = film?.playback?.durationSec ?? 0
  t.ok(Math.abs(savedDuration - LONG_FILM_SECONDS) < 1, `with the film's length (${savedDuration} s)`)
  t.ok(Math.abs(savedAt - leftAt) < 2, `saved on Back: left at ${leftAt.toFixed(1)} s, saved ${savedAt} s`)
  t.equal(film?.playback?.resumable, true)
  // the page may show the position saved a few seconds earlier until the library it reads is fresh
  const clock = `${Math.floor(savedAt / 60)}:${String(Math.floor(savedAt % 60)).padStart(2, '0')}`
  await tv.waitForFunction(
    text => document.activeElement?.getAttribute('data-focus-key') === 'resume' && document.activeElement.textContent?.includes(text),
    `Resume from ${clock}`
  )
  t.pass(`Resume has focus and names the position (${clock})`)
  await saveScreenshot(tv, 'journey-8-film-resume')
})

t.test('Back to the home screen: Continue watching shows the film at the saved position', async t => {
  await tv.keyboard.press('Escape')
  await waitForFocus(tv, `[data-focus-key="film:${longFilm}"]`)
  t.pass('focus returns to the card the film was opened from')
  const continueCard = tv.locator(`.card-wide[data-token-id="${longFilm}"]`)
  await continueCard.waitFor()
  const watched = Number(await continueCard.locator('[role="progressbar"]').getAttribute('aria-valuenow'))
  t.equal(watched, Math.round((savedAt / savedDuration) * 100), 'its bar is at the saved position')
  t.match(await continueCard.textContent(), `${Math.round((savedDuration - savedAt) / 60)} min left`)
  await saveScreenshot(tv, 'journey-9-continue-watching')

  await tv.keyboard.press('ArrowUp')
  t.equal((await describeFocus(tv)).focusKey, `continue:${longFilm}`, 'Up reaches the Continue watching row')
})

t.test('Resume starts at the saved position', async t => {
  await tv.keyboard.press('Enter')
  await waitForFocus(tv, '[data-focus-key="resume"]')
  await tv.keyboard.press('Enter')
  const startedAt = await waitForVideoAt(tv, 0.1)
  t.ok(Math.abs(startedAt - savedAt) <= 2, `resumed at ${startedAt.toFixed(1)} s, saved ${savedAt} s`)
  await saveScreenshot(tv, 'journey-10-resumed')

  await tv.keyboard.press('Escape')
  await waitForFocus(tv, '[data-focus-key="resume"]')
  await pressKeyCode(tv, 461) // webOS Back
  await waitForFocus(tv, `[data-focus-key="continue:${longFilm}"]`)
  t.pass('Back twice (Escape, then webOS 461) returns to the card')
  t.same(pageErrors, [], 'no script errors on the TV')
})

t.test('a film bought while a TV shows the library appears on it at once: the box tells the TV, no poll needed', async t => {
  const watcher = await newTvPage(browser)
  t.teardown(() => watcher.context().close())
  // this TV's timed reloads (every 3 s and slower) never fire: only the box's event can bring the film
  await watcher.addInitScript(() => {
    const setTimer = window.setTimeout
    window.setTimeout = ((handler: TimerHandler, ms?: number, ...args: unknown[]) =>
      (ms ?? 0) >= 3000 ? 0 : setTimer(handler, ms, ...args)) as typeof window.setTimeout
  })
  await signInTv(watcher, box.url, await signedInCookie(box.url, world.owner))
  await watcher.goto(`${box.url}/`)
  await watcher.locator(`.card[data-token-id="${other.tokenId}"]`).waitFor()
  const bought = await registerFilm({ custodian: world.custodian, creator: world.creator, contractAddress: world.devnet.contractAddress })
  await buyFilm(world.owner, world.devnet.contractAddress, bought.tokenId)
  await watcher.locator(`.card[data-token-id="${bought.tokenId}"]`).waitFor({ timeout: 30_000 })
  t.pass('the new film has its card')
  await saveScreenshot(watcher, 'journey-11-bought-while-watching')
})

t.test('a film sold while it plays stops, and the TV says why; Back leads to its locked page', async t => {
  await tv.keyboard.press('Enter') // on its Continue watching card
  await waitForFocus(tv, '[data-focus-key="resume"]')
  await tv.keyboard.press('Enter')
  await waitForVideoAt(tv, (await waitForVideoAt(tv, 0.1)) + 1)
  t.pass('the film plays')

  await transferFilm(world.owner, world.devnet.accounts.otherCollector.address, world.devnet.contractAddress, longFilm)
  const sold = tv.locator('[data-screen="player-sold"]')
  await sold.waitFor({ timeout: 30_000 })
  t.equal(await tv.locator('video').count(), 0, 'the player is gone')
  t.match(await sold.textContent(), /This film was sold from this wallet.*Playback stopped\. Long Pattern now belongs to another wallet/)
  await waitForFocus(tv, '[data-screen="player-sold"] button')
  t.equal((await describeFocus(tv)).text, 'Back', 'Back has focus')
  await saveScreenshot(tv, 'journey-12-sold-while-playing')

  await tv.keyboard.press('Enter')
  await waitForFocus(tv, '.actions .button-secondary')
  t.equal(await tv.locator('[data-focus-key="play"], [data-focus-key="resume"]').count(), 0, "the film's page offers no way to play it")
  t.same(pageErrors, [], 'no script errors on the TV')
})
