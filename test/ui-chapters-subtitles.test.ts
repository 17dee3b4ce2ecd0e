// Films as they come with chapters and several subtitle tracks, from publish to the TV's player, all
// real: ffmpeg makes a 4 s 320×180 MKV (no audio) with three chapters (an ffmetadata file), a styled ASS track
// (English), an SRT track (French), a forced SRT track (English signs) and a PGS image track (German);
// publish seals it; the box lists what it carries; Chromium plays it: the forced track is on from the
// start, channel up/down skip chapters, the ASS track's cues keep their places, picking the PGS track
// plays the version publish burned it into from where the film was. A second source whose French track
// is the default starts on that one.
import { execFile } from 'node:child_process'
import { writeFile } from 'node:fs/promises'
import path from 'node:path'
import { promisify } from 'node:util'
import t from 'tap'
import type { Page } from 'playwright-core'
import { assToWebVtt } from '../server/publish/ass-subtitles.ts'
import { assScript, STYLED_EVENTS } from './helpers/ass-script.ts'
import {
  collectPageErrors,
  describeFocus,
  launchChromium,
  newTvPage,
  pressKeyCode,
  saveScreenshot,
  signInTv,
  waitForFocus
} from './helpers/chromium.ts'
import { buyFilm, registerFilm } from './helpers/films.ts'
import { libraryFilm } from './helpers/http.ts'
import { testDir } from './helpers/in-process.ts'
import { signedInCookie } from './helpers/owner-session.ts'
import { publishAndBuy, startTvWorld } from './helpers/tv-world.ts'
import { waitFor } from './helpers/wait-for.ts'
import { pgsStream } from './helpers/film-sources.ts'
import { DevToolsTab } from './helpers/devtools.ts'
import { launchEngine, TV_ENGINES } from './helpers/tv-engines.ts'

const run = promisify(execFile)

const CHAPTERS = [
  { startSeconds: 0, endSeconds: 1.5, title: 'Opening' },
  { startSeconds: 1.5, endSeconds: 3, title: 'The Middle' },
  { startSeconds: 3, endSeconds: 4, title: 'End & <credits>' }
]

/**
 * The source: video, the chapters, then subtitle streams ASS (eng), SRT (fre), forced SRT (eng), PGS (ger). No
 * audio: AAC's priming would start the remuxed video at 0.02 s, where the thumbnails fail today (issue 16's
 * renditions slice fixes that).
 */
async function makeSource(dir: string, { frenchDefault }: { frenchDefault: boolean }): Promise<string> {
  const chapters = path.join(dir, 'chapters.txt')
  await writeFile(
    chapters,
    [
      ';FFMETADATA1',
      ...CHAPTERS.flatMap(c => [
        '[CHAPTER]',
        'TIMEBASE=1/1000',
        `START=${c.startSeconds * 1000}`,
        `END=${c.endSeconds * 1000}`,
        `title=${c.title}`
      ])
    ].join('\n')
  )
  const files = {
    ass: [path.join(dir, 'styled.ass'), assScript(STYLED_EVENTS)],
    fre: [path.join(dir, 'fre.srt'), '1\n00:00:00,000 --> 00:00:03,900\nUn motif de test\n'],
    forced: [path.join(dir, 'forced.srt'), '1\n00:00:00,000 --> 00:00:03,900\n[SIGN: TEST PATTERN]\n'],
    pgs: [
      path.join(dir, 'image.sup'),
      pgsStream({ width: 320, height: 180 }, [{ startSeconds: 0.5, endSeconds: 3.5, box: { x: 80, y: 140, width: 160, height: 20 } }])
    ]
  } as const
  for (const [file, content] of Object.values(files)) await writeFile(file, content)
  const out = path.join(dir, 'source.mkv')
  const stream = (n: number, language: string, title?: string) => [
    `-metadata:s:s:${n}`,
    `language=${language}`,
    ...(title !== undefined ? [`-metadata:s:s:${n}`, `title=${title}`] : [])
  ]
  await run('ffmpeg', [
    ...['-v', 'error', '-y', '-f', 'lavfi', '-i', 'testsrc2=size=320x180:rate=25:duration=4'],
    ...['-f', 'ffmetadata', '-i', chapters, '-i', files.ass[0], '-i', files.fre[0], '-i', files.forced[0], '-i', files.pgs[0]],
    ...['-map', '0:v', '-map', '2', '-map', '3', '-map', '4', '-map', '5', '-map_chapters', '1'],
    ...['-c:v', 'libx264', '-preset', 'ultrafast', '-pix_fmt', 'yuv420p', '-g', '25', '-c:s', 'copy'],
    ...[...stream(0, 'eng', 'English'), ...stream(1, 'fre', 'Français'), ...stream(2, 'eng', 'English signs'), ...stream(3, 'ger')],
    ...[
      '-disposition:s:0',
      '0',
      '-disposition:s:1',
      frenchDefault ? 'default' : '0',
      '-disposition:s:2',
      'forced',
      '-disposition:s:3',
      '0'
    ],
    out
  ])
  return out
}

const world = await startTvWorld(t)
const { box } = world
const dir = testDir(t, 'sources')
const [forcedDir, defaultDir] = [path.join(dir, 'forced'), path.join(dir, 'default')]
await run('mkdir', ['-p', forcedDir, defaultDir])
const filmId = await publishAndBuy(world, { input: await makeSource(forcedDir, { frenchDefault: false }), title: 'Chaptered Pattern' })
const frenchId = await publishAndBuy(world, { input: await makeSource(defaultDir, { frenchDefault: true }), title: 'French Default' })
// a film whose metadata was written before chapters and track marks: as every film published until now
const old = await registerFilm({ custodian: world.custodian, creator: world.creator, contractAddress: world.devnet.contractAddress })
await buyFilm(world.owner, world.devnet.contractAddress, old.tokenId)
const screen = await signedInCookie(box.url, world.owner)

const browser = await launchChromium()
t.teardown(() => browser.close())
const tv = await newTvPage(browser)
const pageErrors = collectPageErrors(tv)
await signInTv(tv, box.url, screen)

t.test('publish lists the chapters, every text track with its language, label and forced mark, and the image track', async t => {
  const film = await waitFor('the film in the library', async () => await libraryFilm(box.url, filmId, screen), { timeoutMs: 60_000 })
  t.same(film.chapters, CHAPTERS, 'start, end and title of each chapter')
  t.same(
    film.subtitles.map(({ language, label, forced, default: isDefault }) => ({ language, label, forced, default: isDefault })),
    [
      { language: 'eng', label: 'English', forced: false, default: false },
      { language: 'fre', label: 'Français', forced: false, default: false },
      { language: 'eng', label: 'English signs', forced: true, default: false }
    ],
    'the PGS stream is not among the text tracks'
  )
  const version = `/api/films/${filmId}/renditions/subtitled/0/stream`
  t.same(
    film.imageSubtitles,
    [{ language: 'ger', label: null, forced: false, url: version }],
    'but named as a picture track, with its version'
  )
  const played = await fetch(`${box.url}${version}`, { headers: { ...screen, range: 'bytes=0-7' } })
  t.equal(played.status, 206, 'the version burned in at publish plays as a rendition does')
  t.equal(
    Buffer.from(await played.arrayBuffer())
      .subarray(4, 8)
      .toString('latin1'),
    'ftyp',
    'an MP4, decrypted'
  )
  t.equal((await fetch(`${box.url}${version}`)).status, 401, 'to a signed-in screen only')
  const none = await fetch(`${box.url}/api/films/${filmId}/renditions/subtitled/1/stream`, { headers: screen })
  t.match(
    { status: none.status, body: await none.json() },
    { status: 404, body: { code: 'SEED_FILM_ASSET_NOT_FOUND', message: /has no subtitled\/1 rendition; it has sdr, subtitled\/0/ } }
  )
  const bad = await fetch(`${box.url}/api/films/${filmId}/renditions/subtitled/first/stream`, { headers: screen })
  t.equal(bad.status, 400, 'an index that is not a number is refused by the schema')
  t.equal(film.chaptersUrl, `/api/films/${filmId}/chapters`)

  const read = async (url: string) => {
    const response = await fetch(`${box.url}${url}`, { headers: screen })
    t.equal(response.headers.get('content-type'), 'text/vtt; charset=utf-8', url)
    return await response.text()
  }
  t.equal(
    await read(film.chaptersUrl as string),
    'WEBVTT\n\n00:00:00.000 --> 00:00:01.500\nOpening\n\n00:00:01.500 --> 00:00:03.000\nThe Middle\n\n00:00:03.000 --> 00:00:04.000\nEnd &amp; &lt;credits&gt;\n',
    'the sealed chapters track, decrypted'
  )
  const guest = await fetch(`${box.url}${film.chaptersUrl}`)
  t.equal(guest.status, 401, 'only to a signed-in screen, as the subtitles')
  t.equal(await read(film.subtitles[0].url), assToWebVtt(assScript(STYLED_EVENTS)), 'the ASS track, converted with its places')
  t.match(await read(film.subtitles[2].url), /00:00\.000 --> 00:03\.900\n\[SIGN: TEST PATTERN\]/, 'the forced SRT track, by ffmpeg')

  const french = await libraryFilm(box.url, frenchId, screen)
  t.same(
    french?.subtitles.map(track => track.default),
    [false, true, false],
    "the source's default disposition marks the French track"
  )
})

t.test('a film published before lists no chapters and no image subtitles, and has no chapters track', async t => {
  const film = await waitFor('the old film', async () => await libraryFilm(box.url, old.tokenId, screen), { timeoutMs: 60_000 })
  t.match(film, { chapters: [], chaptersUrl: null, imageSubtitles: [], subtitles: [] })
  await waitFor('the old film ready', async () => (await libraryFilm(box.url, old.tokenId, screen))?.state === 'ready', {
    timeoutMs: 60_000
  })
  const response = await fetch(`${box.url}/api/films/${old.tokenId}/chapters`, { headers: screen })
  t.equal(response.status, 404)
  t.match(await response.json(), { code: 'SEED_FILM_ASSET_NOT_FOUND', message: `film ${old.tokenId} has no chapters` })
})

const videoState = (page: Page) =>
  page.evaluate(() => {
    const v = document.querySelector('video') as HTMLVideoElement
    return { time: v.currentTime, seeking: v.seeking }
  })

/** Waits until the paused video has settled at `seconds` (a chapter's start). */
async function waitForSeekTo(page: Page, seconds: number): Promise<number> {
  await page.waitForFunction(at => {
    const v = document.querySelector('video')
    return v !== null && !v.seeking && Math.abs(v.currentTime - at) < 0.001
  }, seconds)
  return (await videoState(page)).time
}

t.test('the player: the forced track on from the start, channel up/down skip chapters, the chapter menu', async t => {
  await tv.goto(`${box.url}/#/film/${filmId}`)
  await tv.locator('.facts', { hasText: 'Subtitles: English, Français, English signs (forced)' }).waitFor({ timeout: 30_000 })
  t.match(await tv.textContent('.facts'), '3 chapters')
  t.equal(
    await tv.textContent('.image-subtitles'),
    'German (picture subtitles): plays as a separate version with the subtitles in the picture.',
    'the film page says how the picture track is shown'
  )
  await saveScreenshot(tv, 'chapters-1-film')
  await waitForFocus(tv, '[data-focus-key="play"]')
  await tv.keyboard.press('Enter')
  await tv.locator('.subtitle-line', { hasText: '[SIGN: TEST PATTERN]' }).waitFor({ timeout: 30_000 })
  t.pass('the forced track shows without the viewer choosing it')
  await tv.evaluate(() => (document.querySelector('video') as HTMLVideoElement).pause())
  await tv.locator('.osd-state', { hasText: 'Paused' }).waitFor()

  await pressKeyCode(tv, 427) // channel up, as Tizen sends it
  t.equal(await waitForSeekTo(tv, 1.5), 1.5, 'channel up: the second chapter')
  await tv.keyboard.press('PageUp') // channel up, as webOS sends it
  t.equal(await waitForSeekTo(tv, 3), 3, 'again: the third')
  await pressKeyCode(tv, 428) // channel down, at a chapter's start: the chapter before
  t.equal(await waitForSeekTo(tv, 1.5), 1.5, 'channel down: back to the second chapter')

  await tv.keyboard.press('ArrowDown')
  for (let step = 0; step < 8 && (await describeFocus(tv)).focusKey !== 'chapters'; step++) await tv.keyboard.press('ArrowRight')
  t.equal((await describeFocus(tv)).text, 'Chapter: The Middle', 'the chapter button names the chapter playing')
  await tv.keyboard.press('Enter')
  await waitForFocus(tv, '.menu-item[aria-checked="true"]')
  t.equal((await describeFocus(tv)).text, '✓0:01 The Middle', 'the menu opens on the chapter playing')
  await saveScreenshot(tv, 'chapters-2-menu')
  await tv.keyboard.press('ArrowUp')
  await tv.keyboard.press('Enter')
  t.equal(await waitForSeekTo(tv, 0), 0, 'the first chapter, picked from the menu')
  t.same(pageErrors, [], 'no script error')
})

t.test('the ASS track in Chromium: every cue parsed with its line and position; a top cue drawn at the top', async t => {
  await waitForFocus(tv, '[data-focus-key="chapters"]')
  await tv.keyboard.press('ArrowRight')
  t.equal((await describeFocus(tv)).text, 'Subtitles: English signs (forced)')
  await tv.keyboard.press('Enter')
  await waitForFocus(tv, '.menu-item[aria-checked="true"]')
  await tv.keyboard.press('ArrowUp')
  await tv.keyboard.press('ArrowUp')
  await tv.keyboard.press('Enter')
  await waitForFocus(tv, '[data-focus-key="subtitles"]')
  t.equal((await describeFocus(tv)).text, 'Subtitles: English')

  // once the whole file is parsed (its cues arrive as it is read)
  const cues = await tv.waitForFunction(() => {
    const element = document.querySelector('video track') as HTMLTrackElement
    const list = element.readyState === HTMLTrackElement.LOADED ? [...(element.track.cues ?? [])].map(cue => cue as VTTCue) : []
    return list.length > 0 && list.map(cue => ({ text: cue.text, line: cue.line, position: cue.position, align: cue.align }))
  })
  t.same(await cues.jsonValue(), [
    { text: 'Plain line, with a comma\nand a second line', line: 'auto', position: 'auto', align: 'center' },
    { text: '<i>A thought </i>said aloud', line: 'auto', position: 'auto', align: 'center' },
    { text: 'At the top, <i>in italics</i> &amp; &lt;more&gt;', line: 5, position: 50, align: 'center' },
    { text: '<b>Placed</b> here', line: 25, position: 25, align: 'left' },
    { text: '<b>SIGN\nsoft break</b>', line: 10, position: 5, align: 'left' }
  ])

  await tv.evaluate(() => {
    ;(document.querySelector('video') as HTMLVideoElement).currentTime = 1.2
  })
  await tv.locator('.subtitles-top', { hasText: 'At the top, in italics & <more>' }).waitFor()
  t.match(await tv.textContent('.subtitles:not(.subtitles-top)'), 'A thought said aloud', 'the others at the bottom')
  await saveScreenshot(tv, 'chapters-3-ass-top')
  t.same(pageErrors, [], 'no script error')
})

t.test('picking the German picture subtitles plays their version from where the film was, Off the film again', async t => {
  const film = (await libraryFilm(box.url, filmId, screen))!
  await tv.evaluate(() => {
    const video = document.querySelector('video') as HTMLVideoElement
    video.pause()
    video.currentTime = 2
  })
  await waitForSeekTo(tv, 2)
  // the version's first seek (to where the film was) pauses it there: the film is 4 s long, and would end
  await tv.evaluate(() => {
    const video = document.querySelector('video') as HTMLVideoElement
    video.addEventListener('seeked', () => video.pause(), { once: true })
  })
  await waitForFocus(tv, '[data-focus-key="subtitles"]')
  await tv.keyboard.press('Enter')
  await waitForFocus(tv, '.menu-item[aria-checked="true"]')
  t.same(
    (await tv.locator('.menu-item').allTextContents()).map(text => text.replace('✓', '')),
    ['Off', 'English', 'Français', 'English signs (forced)', 'German (picture subtitles)'],
    'the picture track among the others, said to be pictures'
  )
  for (let step = 0; step < 5 && !(await describeFocus(tv)).text.includes('picture'); step++) await tv.keyboard.press('ArrowDown')
  await tv.keyboard.press('Enter')
  const switched = await tv.waitForFunction(() => {
    const video = document.querySelector('video') as HTMLVideoElement
    return (
      video.paused &&
      !video.seeking &&
      video.readyState >= 1 &&
      video.currentTime > 0 && { src: video.currentSrc, time: video.currentTime, rendition: video.dataset.rendition }
    )
  })
  const state = (await switched.jsonValue()) as { src: string; time: number; rendition: string }
  t.equal(state.src, `${box.url}${film.imageSubtitles[0].url}`, "the <video> plays the version's stream")
  t.equal(state.rendition, 'subtitled')
  t.ok(state.time >= 2 && state.time < 2.5, `from where the film was (${state.time} s)`)
  await waitForFocus(tv, '[data-focus-key="subtitles"]')
  t.equal((await describeFocus(tv)).text, 'Subtitles: German (picture subtitles)')
  await saveScreenshot(tv, 'chapters-4-picture-subtitles')

  await tv.keyboard.press('Enter')
  await waitForFocus(tv, '.menu-item[aria-checked="true"]')
  for (let step = 0; step < 5 && (await describeFocus(tv)).text !== 'Off'; step++) await tv.keyboard.press('ArrowUp')
  await tv.keyboard.press('Enter')
  await tv.waitForFunction(sdr => (document.querySelector('video') as HTMLVideoElement).currentSrc.endsWith(sdr), film.renditions[0].url)
  t.pass('Off: the film without them again')
  t.same(pageErrors, [], 'no script error')
})

t.test('a source whose French track is the default starts on it', async t => {
  await tv.goto(`${box.url}/#/film/${frenchId}/play`)
  await tv.locator('.subtitle-line', { hasText: 'Un motif de test' }).waitFor({ timeout: 30_000 })
  await tv.keyboard.press('ArrowDown')
  await tv.locator('[data-focus-key="subtitles"]', { hasText: 'Subtitles: Français' }).waitFor()
  t.pass('Subtitles: Français, showing')
})

t.test('the TV floor (Chromium 68) parses the converted cues with their places too', async t => {
  const engine = await launchEngine(TV_ENGINES[0])
  t.teardown(() => engine.close())
  const tab = await DevToolsTab.open(engine.devtoolsUrl)
  const vtt = assToWebVtt(assScript(STYLED_EVENTS))
  // written in the syntax the oldest engine parses (devtools.ts)
  const parsed = await tab.send('Runtime.evaluate', {
    awaitPromise: true,
    returnByValue: true,
    expression: `new Promise(function (resolve) {
      var video = document.body.appendChild(document.createElement('video'))
      var track = video.appendChild(document.createElement('track'))
      track.src = URL.createObjectURL(new Blob([${JSON.stringify(vtt)}], { type: 'text/vtt' }))
      track.track.mode = 'hidden'
      track.onload = track.onerror = function () {
        resolve([].map.call(track.track.cues || [], function (cue) { return [cue.line, cue.position, cue.align] }))
      }
    })`
  })
  t.same(parsed.result.value, [
    ['auto', 'auto', 'center'],
    ['auto', 'auto', 'center'],
    [5, 50, 'center'],
    [25, 25, 'left'],
    [10, 5, 'left']
  ])
})
