// The seek thumbnails from publish to the Player, on real parts: ffmpeg makes sheets of at most 10×10
// tiles from a real clip, each sealed with the film's key and added to the custodian's Helia; the box
// pins them with the film and serves each decrypted to the owner only; the player in real Chromium asks
// only for the sheet under the scrub. A film published with the older single sheet still shows it.
import t from 'tap'
import { execFile } from 'node:child_process'
import { mkdir, writeFile } from 'node:fs/promises'
import path from 'node:path'
import { promisify } from 'node:util'
import type { Page } from 'playwright-core'
import type { LibraryFilmView } from '../server/library/routes.ts'
import { generateDemoClip } from '../server/publish/demo-clip.ts'
import { daemonPublishContext, publishFilm } from '../server/publish/publish-film.ts'
import { openBuffer } from '../server/sealing/open.ts'
import {
  parseCid,
  parseFilmMetadata,
  thumbnailSheetsOf,
  type FilmMetadata,
  type ThumbnailSheetsMetadata
} from '../server/library/film-metadata.ts'
import { collectPageErrors, launchChromium, newTvPage, signInTv, waitForFocus } from './helpers/chromium.ts'
import { devnetWallet, startTestDevnet } from './helpers/devnet.ts'
import { buyFilm, registerMetadata, transferFilm } from './helpers/films.ts'
import { libraryFilm } from './helpers/http.ts'
import { daemonConfig, startTestDaemon, testDir } from './helpers/in-process.ts'
import { signedInCookie } from './helpers/owner-session.ts'
import { waitFor } from './helpers/wait-for.ts'

const run = promisify(execFile)
const devnet = await startTestDevnet(t)
const creator = devnetWallet(t, devnet, devnet.accounts.creator.privateKey)
const owner = devnetWallet(t, devnet, devnet.accounts.owner.privateKey)
const custodian = await startTestDaemon(t, daemonConfig(devnet, testDir(t, 'custodian'), ['custodian']))
const box = await startTestDaemon(t, daemonConfig(devnet, testDir(t, 'box'), ['player'], custodian.multiaddrs()))
const screen = await signedInCookie(box.url, owner)

const pictureDir = testDir(t, 'pictures')
await mkdir(pictureDir, { recursive: true })
let pictures = 0
/** Writes an image (bytes) to a file of its own for ffmpeg and ffprobe to read. */
async function pictureFile(image: Uint8Array): Promise<string> {
  const file = path.join(pictureDir, `picture-${pictures++}`)
  await writeFile(file, image)
  return file
}

/** ffprobe's view of an image given as bytes. */
async function probeImage(image: Uint8Array): Promise<{ codec_name: string; width: number; height: number }> {
  const args = ['-v', 'error', '-print_format', 'json', '-show_streams', '-f', 'image2pipe', await pictureFile(image)]
  return JSON.parse((await run('ffprobe', args)).stdout).streams[0]
}

/** A tile-sized picture: the one at `at` in an image (a sheet, or a preview at 0, 0), or a clip's frame. */
type Picture = { image: Uint8Array; at: { x: number; y: number } } | { video: string; seconds: number }

/**
 * ffmpeg's SSIM of two tile-sized pictures: 1 for the same. A JPEG tile of this noisy test pattern keeps
 * only about 0.8 of its own frame's likeness, so tests compare likenesses rather than trust one figure.
 */
async function likeness(first: Picture, second: Picture): Promise<number> {
  const { tileWidth: w, tileHeight: h } = grid
  const input = async (picture: Picture) =>
    'video' in picture
      ? { args: ['-ss', String(picture.seconds), '-i', picture.video], filter: `scale=${w}:${h}` }
      : { args: ['-f', 'image2pipe', '-i', await pictureFile(picture.image)], filter: `crop=${w}:${h}:${picture.at.x}:${picture.at.y}` }
  const [a, b] = [await input(first), await input(second)]
  const graph = `[0:v]${a.filter}[a];[1:v]${b.filter}[b];[a][b]ssim`
  const { stderr } = await run('ffmpeg', ['-nostats', ...a.args, ...b.args, '-filter_complex', graph, '-frames:v', '1', '-f', 'null', '-'])
  const all = /All:([\d.]+)/.exec(stderr)
  if (all === null) throw new Error(`ffmpeg printed no SSIM: ${stderr.slice(-500)}`)
  return Number(all[1])
}

const isJpeg = (bytes: Uint8Array): boolean => bytes[0] === 0xff && bytes[1] === 0xd8 && bytes[2] === 0xff
const filmKey = async (metadata: FilmMetadata) => (await custodian.custody?.get(metadata.content.cid)) as Uint8Array
const readMetadata = async (cid: string) =>
  JSON.parse(new TextDecoder().decode(await custodian.helia.content.readBytes(parseCid(cid)))) as FilmMetadata
const readyFilm = (tokenId: string) =>
  waitFor(`film ${tokenId} to be ready`, async () => {
    const view = await libraryFilm(box.url, tokenId, screen)
    return view?.state === 'ready' && view
  })

// 1100 s: 110 tiles at 10 s, past one sheet of 100; one frame a second keeps the clip quick to make
const LONG_SECONDS = 1100
const longClip = await generateDemoClip(path.join(testDir(t, 'work'), 'long'), {
  seconds: LONG_SECONDS,
  width: 160,
  height: 90,
  frameRate: 1
})
const long = await publishFilm(daemonPublishContext(custodian, creator), { input: longClip.video, title: 'Seek Me', year: 2025 })
const metadata = await readMetadata(long.metadataCid)
const grid = { intervalSeconds: 10, columns: 10, rows: 10, count: 110, tileWidth: 160, tileHeight: 90 }
/** The decrypted sheets, as the box served them (test 2). */
const served: Uint8Array[] = []

// A film as publish made them before sheets: one `thumbnails` grid. Its metadata sits on IPFS under the
// CID the chain names, so it is read as it is. Made here from a short film's one sheet (3 tiles, 1 row),
// before the tests run: tap ends the file when its tests are done, and a publish after them outlived it.
const shortClip = await generateDemoClip(path.join(testDir(t, 'work'), 'short'), { seconds: 25, width: 320, height: 180 })
const short = await publishFilm(daemonPublishContext(custodian, creator), { input: shortClip.video, title: 'Short' })
const { thumbnailSheets: shortSheets, ...shortMetadata } = await readMetadata(short.metadataCid)
const legacyMetadata: FilmMetadata = {
  ...shortMetadata,
  title: 'Old Sheet',
  thumbnails: { ...grid, count: 3, rows: 1, cid: shortSheets?.sheets[0].cid as string, mimeType: 'image/jpeg' }
}
const legacy = await registerMetadata({ custodian, creator, contractAddress: devnet.contractAddress }, legacyMetadata, { releaseKey: true })

t.test('publish makes sheets of at most 10×10 tiles, a frame every 10 s, each sealed with the film key', async t => {
  const sheets = metadata.thumbnailSheets
  t.match(sheets, { mimeType: 'image/jpeg', ...grid })
  t.equal(sheets?.sheets.length, 2, '110 tiles: a full sheet and one of 10')
  t.equal(metadata.thumbnails, undefined, 'no single sheet of the whole film')
  for (const [n, { cid }] of (sheets?.sheets ?? []).entries()) {
    const stored = await custodian.helia.content.readBytes(parseCid(cid))
    t.notOk(isJpeg(stored), `sheet ${n} is stored as no readable JPEG`)
    t.ok(isJpeg(openBuffer(await filmKey(metadata), stored)), `sheet ${n} opens with the film key into a JPEG`)
  }
})

t.test('the metadata lists at most 64 sheets of at most 10×10 tiles, as many as its tiles fill', async t => {
  const sheets = metadata.thumbnailSheets as ThumbnailSheetsMetadata
  const parse = (thumbnailSheets: unknown) => () =>
    parseFilmMetadata(new TextEncoder().encode(JSON.stringify({ ...metadata, thumbnailSheets })))
  t.throws(parse({ ...sheets, count: 6500, sheets: Array(65).fill(sheets.sheets[0]) }), {
    name: 'MetadataError',
    message: 'film metadata is invalid: /thumbnailSheets/sheets must NOT have more than 64 items'
  })
  t.throws(parse({ ...sheets, rows: 11 }), { message: 'film metadata is invalid: /thumbnailSheets/rows must be <= 10' })
  t.throws(parse({ ...sheets, count: 250 }), {
    message: 'film metadata is invalid: /thumbnailSheets lists 2 sheets where its 250 tiles fill 3'
  })
  const { cid } = sheets.sheets[0]
  const single = { ...metadata, thumbnailSheets: undefined, thumbnails: { ...sheets, sheets: undefined, cid, count: 100 } }
  t.same(
    thumbnailSheetsOf(parseFilmMetadata(new TextEncoder().encode(JSON.stringify(single)))),
    { ...sheets, count: 100, sheets: [{ cid }] },
    'a single sheet of older metadata is read as a list of one'
  )
})

t.test('the owner gets each sheet decrypted, within 10×10 tiles; the library describes them', async t => {
  await buyFilm(owner, devnet.contractAddress, long.tokenId, 0n)
  const film = await readyFilm(long.tokenId)
  const base = `/api/films/${long.tokenId}/thumbnails`
  t.same(film.thumbnails, {
    intervalSec: 10,
    columns: 10,
    rows: 10,
    count: 110,
    tileWidth: 160,
    tileHeight: 90,
    sheets: [
      { url: `${base}/0`, rows: 10 },
      { url: `${base}/1`, rows: 1 }
    ]
  } satisfies LibraryFilmView['thumbnails'])

  for (const [n, sheet] of (film.thumbnails?.sheets ?? []).entries()) {
    const response = await fetch(`${box.url}${sheet.url}`, { headers: screen })
    t.equal(response.status, 200)
    t.equal(response.headers.get('content-type'), 'image/jpeg')
    t.equal(response.headers.get('cache-control'), 'no-store', 'decrypted: not kept in the TV browser cache')
    served[n] = new Uint8Array(await response.arrayBuffer())
    const { width, height } = await probeImage(served[n])
    t.ok(width <= 10 * 160 && height <= 10 * 90, `sheet ${n} is ${width}x${height}: at most 10×10 tiles of 160x90`)
    t.same({ width, height }, { width: 1600, height: sheet.rows * 90 }, `sheet ${n}: 10 tiles a row, ${sheet.rows} rows`)
  }

  const beyond = await fetch(`${box.url}${base}/2`, { headers: screen })
  t.equal(beyond.status, 404)
  t.match(await beyond.json(), { code: 'SEED_FILM_ASSET_NOT_FOUND', message: /sheets 0 to 1, not 2/ }, 'it names the sheets there are')
  const whole = await fetch(`${box.url}${base}`, { headers: screen })
  t.equal(whole.status, 404, 'the single-sheet address has no answer for a film of two sheets')
  t.match(
    await whole.json(),
    { code: 'SEED_FILM_ASSET_NOT_FOUND', message: /has 2 thumbnail sheets: ask for each at .*\/thumbnails\/:n/ },
    'it says where to ask'
  )
})

t.test('the tile for time t is in sheet floor(t / (10 s × 100)), at tile floor(t / 10 s) mod 100', async t => {
  for (const seconds of [0, 550, 990, 1000, 1090]) {
    const index = Math.floor(seconds / grid.intervalSeconds)
    const sheet = Math.floor(index / 100)
    const at = { x: (index % 10) * grid.tileWidth, y: Math.floor((index % 100) / 10) * grid.tileHeight }
    const tile = { image: served[sheet], at }
    const own = await likeness(tile, { video: longClip.video, seconds })
    for (const other of [seconds - 10, seconds + 10].filter(other => other >= 0 && other < LONG_SECONDS)) {
      const then = await likeness(tile, { video: longClip.video, seconds: other })
      t.ok(own > then, `sheet ${sheet} at (${at.x}, ${at.y}) is the frame at ${seconds} s (SSIM ${own}), not at ${other} s (${then})`)
    }
    if (sheet === 1) {
      const first = await likeness({ image: served[0], at }, { video: longClip.video, seconds })
      t.ok(own > first, `the same place in sheet 0 is another frame (SSIM ${first})`)
    }
  }
})

t.test('a film published with the single sheet: still listed, served, and at its old address', async t => {
  t.equal(shortSheets?.sheets.length, 1, 'the short film has one sheet of 3 tiles')
  await buyFilm(owner, devnet.contractAddress, legacy.tokenId)
  const film = await readyFilm(legacy.tokenId)
  const base = `/api/films/${legacy.tokenId}/thumbnails`
  t.same(film.thumbnails, {
    ...{ intervalSec: 10, columns: 10, rows: 1, count: 3, tileWidth: 160, tileHeight: 90 },
    sheets: [{ url: `${base}/0`, rows: 1 }]
  })

  const old = await fetch(`${box.url}${base}`, { headers: screen, redirect: 'manual' })
  t.equal(old.status, 308, 'the old address sends to the one sheet')
  t.equal(old.headers.get('location'), `${base}/0`)
  const sheet = await fetch(`${box.url}${base}`, { headers: screen })
  t.equal(sheet.status, 200)
  t.match(
    await probeImage(new Uint8Array(await sheet.arrayBuffer())),
    { codec_name: 'mjpeg', width: 1600, height: 90 },
    'three 160x90 tiles in a row'
  )
})

t.test('the player asks only for the sheet under the scrub, and keeps the few it loaded', async t => {
  const browser = await launchChromium()
  t.teardown(() => browser.close())
  const tv = await newTvPage(browser)
  const pageErrors = collectPageErrors(tv)
  const asked: string[] = []
  tv.on('request', request => {
    const { pathname } = new URL(request.url())
    if (pathname.includes('/thumbnails')) asked.push(pathname)
  })
  await signInTv(tv, box.url, screen)
  const sheetUrl = (tokenId: string, n: number) => `/api/films/${tokenId}/thumbnails/${n}`

  /** The tile the preview draws, as PNG bytes, and the time the scrub is at. */
  const preview = async (page: Page) => {
    const { png, scrubTo } = await page.evaluate(() => {
      const canvas = document.querySelector('canvas.seek-preview-frame') as HTMLCanvasElement
      const slider = document.querySelector('.seekbar') as HTMLElement
      return { png: canvas.toDataURL('image/png').split(',')[1], scrubTo: Number(slider.getAttribute('aria-valuenow')) }
    })
    return { png: Buffer.from(png, 'base64'), scrubTo }
  }

  await tv.goto(`${box.url}/#/film/${long.tokenId}/play?t=1005`)
  await waitForFocus(tv, '.seekbar')
  t.same(asked, [], 'watching loads no sheet')
  await tv.keyboard.press('ArrowRight')
  await tv.locator('.seek-preview-frame[data-sheet="1"]').waitFor()
  t.same(asked, [sheetUrl(long.tokenId, 1)], 'a scrub past 1000 s loads sheet 1 only')
  const { png, scrubTo } = await preview(tv)
  t.ok(scrubTo >= 1010 && scrubTo < 1100, `the scrub is at ${scrubTo} s`)
  const index = Math.floor(scrubTo / 10) - 100
  const same = await likeness({ image: png, at: { x: 0, y: 0 } }, { image: served[1], at: { x: index * 160, y: 0 } })
  t.ok(same > 0.95, `the preview is tile ${index} of sheet 1 (SSIM ${same})`)

  // back over the boundary, then forward again: sheet 0 is loaded once, sheet 1 is still held
  for (let press = 0; press < 5; press++) await tv.keyboard.press('ArrowLeft')
  await tv.locator('.seek-preview-frame[data-sheet="0"]').waitFor()
  for (let press = 0; press < 5; press++) await tv.keyboard.press('ArrowRight')
  await tv.locator('.seek-preview-frame[data-sheet="1"]').waitFor()
  t.same(asked, [sheetUrl(long.tokenId, 1), sheetUrl(long.tokenId, 0)], 'each sheet asked for once')

  // the film with the older single sheet shows its tiles too
  asked.length = 0
  await tv.goto(`${box.url}/#/film/${legacy.tokenId}/play`)
  await waitForFocus(tv, '.seekbar')
  await tv.keyboard.press('ArrowRight')
  await tv.locator('.seek-preview-frame[data-sheet="0"]').waitFor()
  t.same(asked, [sheetUrl(legacy.tokenId, 0)], 'its one sheet')
  const old = await preview(tv)
  const tileTime = Math.floor(old.scrubTo / 10) * 10
  const own = await likeness({ image: old.png, at: { x: 0, y: 0 } }, { video: shortClip.video, seconds: tileTime })
  const then = await likeness({ image: old.png, at: { x: 0, y: 0 } }, { video: shortClip.video, seconds: tileTime + 10 })
  t.ok(own > then, `the preview is the frame at ${tileTime} s (SSIM ${own}), not ${tileTime + 10} s (${then})`)
  t.same(pageErrors, [], 'no script error')
})

t.test('once the film is sold its sheets are refused', async t => {
  await transferFilm(owner, devnet.accounts.otherCollector.address, devnet.contractAddress, long.tokenId)
  await waitFor('the film to be locked', async () => (await libraryFilm(box.url, long.tokenId, screen))?.state === 'locked')
  t.equal((await fetch(`${box.url}/api/films/${long.tokenId}/thumbnails/0`, { headers: screen })).status, 403)
})
