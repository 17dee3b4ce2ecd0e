// The TV UI plays the rendition its engine says it decodes, all real but the engine's answers where a
// test scripts them: a 10-bit HEVC PQ source (test/helpers/hevc-source.ts) published by a real custodian
// to an original (HEVC, PQ), an sdr and a low rendition; the box's UI in headless Chromium. As it is,
// Chromium on Linux decodes no HEVC and its screen is not HDR: it plays the sdr one. With decodingInfo
// (or canPlayType) and the HDR query answered by an init script, as a 4K HDR TV or a TV that decodes
// only low bitrates would answer, the <video> asks the box for the original or the low one.
import { mkdir } from 'node:fs/promises'
import t from 'tap'
import type { Browser, Page } from 'playwright-core'
import { collectPageErrors, launchChromium, newTvPage, signInTv } from './helpers/chromium.ts'
import { buyFilm, registerFilm } from './helpers/films.ts'
import { hdrSource } from './helpers/hevc-source.ts'
import { libraryFilm } from './helpers/http.ts'
import { testDir } from './helpers/in-process.ts'
import { signedInCookie } from './helpers/owner-session.ts'
import { publishAndBuy, startTvWorld } from './helpers/tv-world.ts'
import { waitFor } from './helpers/wait-for.ts'

const world = await startTvWorld(t)
const { box } = world
const work = testDir(t, 'work')
await mkdir(work, { recursive: true })
const tokenId = await publishAndBuy(world, { input: await hdrSource(work, 'pq', 12), title: 'PQ Pattern' })
const old = await registerFilm({ custodian: world.custodian, creator: world.creator, contractAddress: world.devnet.contractAddress })
await buyFilm(world.owner, world.devnet.contractAddress, old.tokenId)
const screen = await signedInCookie(box.url, world.owner)
const film = await waitFor(
  'the film, playable',
  async () => {
    const view = await libraryFilm(box.url, tokenId, screen)
    return view?.playable === true && view
  },
  { timeoutMs: 60_000 }
)
const bitrate = Object.fromEntries(film.renditions.map(r => [r.role, r.bitrate]))

const browser: Browser = await launchChromium()
t.teardown(() => browser.close())

/** A signed-in TV page whose engine answers as `engine` (a script run before the UI's), or as it is. */
async function tvPage(engine?: string): Promise<{ page: Page; errors: string[] }> {
  const page = await newTvPage(browser)
  t.teardown(() => page.context().close())
  if (engine !== undefined) await page.addInitScript(engine)
  await signInTv(page, box.url, screen)
  return { page, errors: collectPageErrors(page) }
}

/** Opens the film's player; the URL of the film's first request from the <video> (a rendition or /stream). */
async function playerRequests(page: Page, id: string): Promise<string> {
  const request = page.waitForRequest(r => r.url().includes(`/api/films/${id}/`) && /\/stream$/.test(r.url()), { timeout: 30_000 })
  await page.goto(`${box.url}/#/film/${id}/play`)
  return new URL((await request).url()).pathname
}

/** Answers every decodingInfo with `supported` of a function of the question; records the questions. */
const scriptedDecodingInfo = (supported: string) => `
  window.asked = []
  navigator.mediaCapabilities.decodingInfo = function (question) {
    window.asked.push(question)
    return Promise.resolve({ supported: (${supported})(question), smooth: true, powerEfficient: true })
  }`
const hdrScreen = `
  var realMatchMedia = window.matchMedia.bind(window)
  window.matchMedia = function (query) {
    return query === '(dynamic-range: high)' ? { matches: true, media: query } : realMatchMedia(query)
  }`

t.test('the library lists the renditions the engine is asked about', async t => {
  t.same(
    film.renditions.map(r => [r.role, r.hdr, r.fragmented]),
    [
      ['original', 'pq', true],
      ['sdr', 'sdr', false],
      ['low', 'sdr', true]
    ]
  )
  t.ok(bitrate.low < bitrate.sdr, `low ${bitrate.low} bit/s below sdr ${bitrate.sdr} bit/s`)
})

t.test('Chromium as it is (no HEVC, no HDR screen) plays the sdr rendition', async t => {
  const { page, errors } = await tvPage()
  const engine = await page.evaluate(() => ({
    hevc: document.createElement('video').canPlayType('video/mp4; codecs="hvc1.2.4.L63.90"'),
    hdr: matchMedia('(dynamic-range: high)').matches
  }))
  t.same(engine, { hevc: '', hdr: false }, 'what this Chromium reports')
  t.equal(await playerRequests(page, tokenId), `/api/films/${tokenId}/renditions/sdr/stream`)
  await page.waitForFunction(() => {
    const video = document.querySelector('video')
    return video !== null && video.dataset.rendition === 'sdr' && video.currentTime > 0
  })
  t.pass('and plays it')
  t.same(errors, [], 'no script error')
})

t.test('an engine that decodes HEVC on an HDR screen gets the original, asked with its PQ transfer', async t => {
  const { page, errors } = await tvPage(scriptedDecodingInfo('function () { return true }') + hdrScreen)
  t.equal(await playerRequests(page, tokenId), `/api/films/${tokenId}/renditions/original/stream`)
  const asked = await page.evaluate(() => (window as any).asked)
  t.match(asked[0], {
    type: 'file',
    video: { contentType: /^video\/mp4; codecs="hvc1\.2\./, width: 320, height: 180, bitrate: bitrate.original, transferFunction: 'pq' },
    audio: { contentType: 'audio/mp4; codecs="mp4a.40.2"' }
  })
  t.equal(asked.length, 3, 'every rendition asked about')
  t.same(errors, [], 'no script error')
})

t.test('an engine that decodes HEVC on an SDR screen is not given the HDR original', async t => {
  const { page } = await tvPage(scriptedDecodingInfo('function () { return true }'))
  t.equal(await playerRequests(page, tokenId), `/api/films/${tokenId}/renditions/sdr/stream`)
})

t.test('an engine that decodes only the low bitrate gets the low rendition', async t => {
  const { page, errors } = await tvPage(scriptedDecodingInfo(`function (q) { return q.video.bitrate <= ${bitrate.low} }`))
  t.equal(await playerRequests(page, tokenId), `/api/films/${tokenId}/renditions/low/stream`)
  await page.waitForFunction(() => (document.querySelector('video')?.currentTime ?? 0) > 0)
  t.pass('and plays it')
  t.same(errors, [], 'no script error')
})

t.test('without MediaCapabilities, canPlayType with the codecs strings decides', async t => {
  const { page } = await tvPage(`
    Object.defineProperty(Navigator.prototype, 'mediaCapabilities', { get: function () { return undefined } })
    HTMLMediaElement.prototype.canPlayType = function (type) { return /hvc1/.test(type) ? 'probably' : '' }
    ${hdrScreen}`)
  t.equal(await playerRequests(page, tokenId), `/api/films/${tokenId}/renditions/original/stream`)
})

t.test('an engine that decodes none says so, and asks the box for nothing', async t => {
  const { page } = await tvPage(scriptedDecodingInfo('function () { return false }'))
  const streams: string[] = []
  page.on('request', r => {
    if (r.url().endsWith('/stream')) streams.push(r.url())
  })
  await page.goto(`${box.url}/#/film/${tokenId}/play`)
  await page.locator('.state-title', { hasText: 'This film could not be played' }).waitFor({ timeout: 30_000 })
  t.match(await page.textContent('main'), 'This TV cannot decode any version of this film.')
  t.same(streams, [])
})

t.test('a film published before renditions plays its stream, as before', async t => {
  const { page } = await tvPage()
  await waitFor('the old film playable', async () => (await libraryFilm(box.url, old.tokenId, screen))?.playable === true, {
    timeoutMs: 60_000
  })
  t.equal(await playerRequests(page, old.tokenId), `/api/films/${old.tokenId}/stream`)
})
