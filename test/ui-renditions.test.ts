// The TV UI plays the rendition its engine says it decodes, all real but the engine's answers where a
// test scripts them: a 10-bit HEVC PQ source (test/helpers/film-sources.ts) published by a real custodian
// to an original (HEVC, PQ), an sdr and a low rendition; the box's UI in headless Chromium. As it is,
// Chromium on Linux decodes no HEVC and its screen is not HDR: it plays the sdr one. With decodingInfo
// (or canPlayType) and the HDR query answered by an init script, as a 4K HDR TV or a TV that decodes
// only low bitrates would answer, the <video> asks the box for the original or the low one. Where two or
// more of the renditions it plays are fragmented, the player plays HLS over them: a grainy SDR source with
// one audio track (sdr and low renditions), on an engine without native HLS (hls.js) behind a link
// throttled through DevTools below the sdr rendition's bits a second, gets the low one and plays on
// without stalling. The TV floor's engines choose too: Chromium 88 plays that film through hls.js, and
// Chromium 68's npm build, without H.264, is told it plays none of them.
import { mkdir } from 'node:fs/promises'
import t from 'tap'
import type { Browser, Page } from 'playwright-core'
import { collectPageErrors, launchChromium, newTvPage, signInTv } from './helpers/chromium.ts'
import { buyFilm, registerFilm } from './helpers/films.ts'
import { hdrSource, sdrSource } from './helpers/film-sources.ts'
import { libraryFilm } from './helpers/http.ts'
import { testDir, type Test } from './helpers/in-process.ts'
import { signedInCookie } from './helpers/owner-session.ts'
import { publishAndBuy, startTvWorld } from './helpers/tv-world.ts'
import { waitFor } from './helpers/wait-for.ts'
import { DevToolsTab } from './helpers/devtools.ts'
import { launchEngine, TV_ENGINES } from './helpers/tv-engines.ts'

const world = await startTvWorld(t)
const { box } = world
const work = testDir(t, 'work')
await mkdir(work, { recursive: true })
const tokenId = await publishAndBuy(world, { input: await hdrSource(work, 'pq', { seconds: 12 }), title: 'PQ Pattern' })
const grainId = await publishAndBuy(world, { input: await sdrSource(work, 16), title: 'Grain' })
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

/** Opens the film's player; the path (and query) of the player's first request for the film (a stream or HLS playlist). */
async function playerRequests(page: Page, id: string): Promise<string> {
  const request = page.waitForRequest(r => r.url().includes(`/api/films/${id}/`) && /\/stream$|\.m3u8/.test(r.url()), {
    timeout: 30_000
  })
  await page.goto(`${box.url}/#/film/${id}/play`)
  const url = new URL((await request).url())
  return url.pathname + url.search
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
      ['sdr', 'sdr', true],
      ['low', 'sdr', true]
    ]
  )
  t.ok(bitrate.low < bitrate.sdr, `low ${bitrate.low} bit/s below sdr ${bitrate.sdr} bit/s`)
})

t.test('Chromium as it is (no HEVC, no HDR screen): HLS over sdr and low, which its own HLS fails on; then sdr', async t => {
  const { page, errors } = await tvPage()
  const engine = await page.evaluate(() => ({
    hevc: document.createElement('video').canPlayType('video/mp4; codecs="hvc1.2.4.L63.90"'),
    hdr: matchMedia('(dynamic-range: high)').matches
  }))
  t.same(engine, { hevc: '', hdr: false }, 'what this Chromium reports')
  t.equal(await playerRequests(page, tokenId), `/api/films/${tokenId}/hls/master.m3u8?roles=sdr,low`)
  // its own HLS ("maybe") fails on these playlists today (CHUNK_DEMUXER append failed: the two audio tracks),
  // and hls.js is not tried for two (renditions.js): the sdr stream plays then; an engine whose HLS plays them keeps it
  const playing = await page.waitForFunction(() => {
    const video = document.querySelector('video')
    if (video === null || !(video.currentTime > 0)) return false
    return video.dataset.rendition ?? (video.currentSrc.includes('/hls/master.m3u8') ? 'native HLS' : false)
  })
  const how = await playing.jsonValue()
  t.match(how, /^(sdr|native HLS)$/, `and plays: ${how}`)
  t.same(errors, [], 'no script error')
})

t.test('an engine that decodes HEVC on an HDR screen gets the original, asked with its PQ transfer', async t => {
  const { page, errors } = await tvPage(scriptedDecodingInfo('function () { return true }') + hdrScreen)
  t.equal(await playerRequests(page, tokenId), `/api/films/${tokenId}/hls/master.m3u8?roles=original,sdr,low`)
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
  t.equal(await playerRequests(page, tokenId), `/api/films/${tokenId}/hls/master.m3u8?roles=sdr,low`)
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

/** Each variant of the film's HLS master playlist (as the box lists it for every rendition): its playlist and peak bits a second. */
async function hlsVariants(id: string): Promise<Record<string, number>> {
  const master = await (await fetch(`${box.url}/api/films/${id}/hls/master.m3u8`, { headers: screen })).text()
  return Object.fromEntries([...master.matchAll(/BANDWIDTH=(\d+).*\n(\w+)\.m3u8/g)].map(([, bandwidth, role]) => [role, Number(bandwidth)]))
}

t.test('a throttled link gets the low rendition through hls.js, and plays on without a stall', async t => {
  await waitFor('Grain playable', async () => (await libraryFilm(box.url, grainId, screen))?.playable === true, { timeoutMs: 60_000 })
  const peak = await hlsVariants(grainId)
  // room for the low rendition's every fragment, not for the sdr one's average. 4× the low one's peak,
  // not less: CI runs test files beside each other on 2 cores, and at 1.6× a hiccup of the box or the
  // decoder there emptied the buffer once (a waiting at 4.2 s); a quarter of sdr's average still bars sdr.
  const linkBitsPerSecond = Math.round(4 * peak.low)
  const grain = (await libraryFilm(box.url, grainId, screen))!
  const sdr = grain.renditions.find(r => r.role === 'sdr')!
  t.ok(
    sdr.bitrate > 2 * linkBitsPerSecond,
    `the link (${linkBitsPerSecond} bit/s) carries less than half sdr's ${sdr.bitrate} bit/s on average`
  )

  // an engine without native HLS (the TV floor's desktop builds); the <video>'s events, kept in order
  const { page, errors } = await tvPage(`
    var realCanPlayType = HTMLMediaElement.prototype.canPlayType
    HTMLMediaElement.prototype.canPlayType = function (type) {
      return /mpegurl/i.test(type) ? '' : realCanPlayType.call(this, type)
    }
    window.videoEvents = []
    for (const name of ['playing', 'waiting', 'stalled']) {
      document.addEventListener(name, function (event) { window.videoEvents.push([name, event.target.currentTime]) }, true)
    }`)
  const cdp = await page.context().newCDPSession(page)
  await cdp.send('Network.enable')
  await cdp.send('Network.emulateNetworkConditions', {
    offline: false,
    latency: 20,
    downloadThroughput: linkBitsPerSecond / 8,
    uploadThroughput: 1_000_000
  })
  const segments: string[] = []
  page.on('request', request => {
    const match = /\/renditions\/(\w+)\/stream$/.exec(request.url())
    if (match !== null && request.headers().range !== undefined) segments.push(`${match[1]} ${request.headers().range}`)
  })

  t.equal(await playerRequests(page, grainId), `/api/films/${grainId}/hls/master.m3u8?roles=sdr,low`)
  await page.waitForFunction(
    () => {
      const video = document.querySelector('video')
      return video !== null && video.dataset.variant === 'low' && video.currentTime >= 8
    },
    undefined,
    { timeout: 60_000 }
  )
  t.pass('hls.js plays the low variant, 8 s in')
  const events = await page.evaluate(() => (window as any).videoEvents as Array<[string, number]>)
  const started = events.findIndex(([name]) => name === 'playing')
  t.ok(started >= 0, 'it started')
  t.same(
    events.slice(started + 1).filter(([name]) => name !== 'playing'),
    [],
    `no waiting or stall after it started: ${JSON.stringify(events)}`
  )
  const fragments = segments.filter(segment => !/=0-/.test(segment))
  t.ok(fragments.length >= 4, `fragments fetched: ${fragments.join('; ')}`)
  t.same(
    fragments.slice(-3).map(segment => segment.split(' ')[0]),
    ['low', 'low', 'low'],
    'the last ones all of the low rendition'
  )
  t.same(errors, [], 'no script error, nothing the page policy blocked')
})

/** A tab of the old engine, signed in to the box as a paired TV is (its session cookie), with its screen size. */
async function oldEngineTab(t: Test, index: number): Promise<DevToolsTab> {
  const engine = await launchEngine(TV_ENGINES[index])
  t.teardown(() => engine.close())
  const tab = await DevToolsTab.open(engine.devtoolsUrl)
  t.teardown(() => tab.close())
  await tab.setScreen()
  for (const pair of screen.cookie.split('; ')) {
    const at = pair.indexOf('=')
    await tab.send('Network.setCookie', { name: pair.slice(0, at), value: pair.slice(at + 1), url: box.url, httpOnly: true })
  }
  return tab
}

t.test(`${TV_ENGINES[1].name}: the grainy film through hls.js (its own chunk), playing`, async t => {
  const tab = await oldEngineTab(t, 1)
  await tab.navigate(`${box.url}/#/film/${grainId}/play`)
  const variant = await tab.waitFor(
    'hls.js to play a variant',
    'document.querySelector("video") && document.querySelector("video").currentTime > 2 && document.querySelector("video").dataset.variant',
    60_000
  )
  t.match(variant, /^(sdr|low)$/, `hls.js plays the ${variant} variant`)
  t.equal(
    await tab.evaluate('Array.from(document.scripts).some(function (s) { return /\\/hls\\.js$/.test(s.src) })'),
    true,
    'from box/hls.js'
  )
  t.same(tab.errors, [], 'no script error')
})

t.test(`${TV_ENGINES[0].name} (no H.264 in this build) is told it plays none of the renditions`, async t => {
  const tab = await oldEngineTab(t, 0)
  await tab.navigate(`${box.url}/#/film/${grainId}/play`)
  const text = await tab.waitFor<string>(
    'the message',
    'document.querySelector(".state-title") && document.querySelector("main").textContent'
  )
  t.match(text, 'This film could not be played')
  t.match(text, 'This TV cannot decode any version of this film.')
  t.equal(await tab.evaluate('document.querySelector("video")'), null, 'no <video>, no stream asked for')
  t.same(tab.errors, [], 'no script error')
})
