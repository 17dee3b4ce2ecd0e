// The seek-thumbnail sheet from publish to the Player, on real parts: ffmpeg makes it from a real
// clip, it is sealed with the film's key and added to the custodian's Helia, the box pins it with
// the film and serves it decrypted to the owner only.
import t from 'tap'
import { spawn } from 'node:child_process'
import path from 'node:path'
import type { FilmMetadata } from '../server/library/film-metadata.ts'
import type { LibraryFilmView } from '../server/library/routes.ts'
import { generateDemoClip } from '../server/publish/demo-clip.ts'
import { daemonPublishContext, publishFilm } from '../server/publish/publish-film.ts'
import { openBuffer } from '../server/sealing/open.ts'
import { readBytes } from '../server/storage/content.ts'
import { parseCid } from '../server/library/film-metadata.ts'
import { devnetWallet, startTestDevnet } from './helpers/devnet.ts'
import { buyFilm, transferFilm } from './helpers/films.ts'
import { libraryFilm } from './helpers/http.ts'
import { daemonConfig, startTestDaemon, testDir } from './helpers/in-process.ts'
import { signedInCookie } from './helpers/owner-session.ts'
import { waitFor } from './helpers/wait-for.ts'

const devnet = await startTestDevnet(t)
const creator = devnetWallet(t, devnet, devnet.accounts.creator.privateKey)
const owner = devnetWallet(t, devnet, devnet.accounts.owner.privateKey)
const custodian = await startTestDaemon(t, daemonConfig(devnet, testDir(t, 'custodian'), ['custodian']))
const box = await startTestDaemon(t, daemonConfig(devnet, testDir(t, 'box'), ['player'], custodian.multiaddrs()))
const screen = await signedInCookie(box.url, owner)

/** ffprobe's view of an image given as bytes on its stdin (nothing written to disk). */
async function probeImage(bytes: Uint8Array): Promise<{ codec_name: string; width: number; height: number }> {
  const child = spawn('ffprobe', ['-v', 'error', '-print_format', 'json', '-show_streams', '-i', 'pipe:0'])
  let out = ''
  child.stdout.on('data', (part: Buffer) => (out += part))
  child.stdin.end(bytes)
  const code = await new Promise(resolve => child.once('exit', resolve))
  if (code !== 0) throw new Error(`ffprobe exited with ${code}`)
  return JSON.parse(out).streams[0]
}

const isJpeg = (bytes: Uint8Array): boolean => bytes[0] === 0xff && bytes[1] === 0xd8 && bytes[2] === 0xff

const clip = await generateDemoClip(path.join(testDir(t, 'work'), 'clip'), { seconds: 25 })
const published = await publishFilm(daemonPublishContext(custodian, creator), {
  input: clip.video,
  title: 'Seek Me',
  year: 2025,
  subtitles: [{ file: clip.subtitles, language: 'en', label: 'English' }]
})
const metadata = JSON.parse(new TextDecoder().decode(await readBytes(custodian.helia, parseCid(published.metadataCid)))) as FilmMetadata

t.test('publish makes a sheet of a frame every 10 s, sealed with the film key', async t => {
  const sheet = metadata.thumbnails
  t.match(sheet, { mimeType: 'image/jpeg', intervalSeconds: 10, columns: 10, rows: 1, count: 3, tileWidth: 160, tileHeight: 90 })
  const stored = await readBytes(custodian.helia, parseCid(sheet?.cid as string))
  t.notOk(isJpeg(stored), 'the stored sheet is not a readable JPEG')
  const key = (await custodian.custody?.get(metadata.content.cid)) as Uint8Array
  t.ok(isJpeg(openBuffer(key, stored)), 'it opens with the film key into a JPEG')
})

t.test('the owner gets the decrypted sheet; the library describes it', async t => {
  await buyFilm(owner, devnet.contractAddress, published.tokenId, 0n)
  const film = await waitFor('the film to be ready', async () => {
    const view = await libraryFilm(box.url, published.tokenId, screen)
    return view?.state === 'ready' && view
  })
  t.equal(film.year, 2025)
  t.same(film.audio, [{ codec: 'aac', channels: 1, language: 'eng' }], 'the audio tracks, for the Player menu')
  t.same(film.thumbnails, {
    url: `/api/films/${published.tokenId}/thumbnails`,
    intervalSec: 10,
    columns: 10,
    rows: 1,
    count: 3,
    tileWidth: 160,
    tileHeight: 90
  } satisfies LibraryFilmView['thumbnails'])

  const response = await fetch(`${box.url}${film.thumbnails?.url}`, { headers: screen })
  t.equal(response.status, 200)
  t.equal(response.headers.get('content-type'), 'image/jpeg')
  t.equal(response.headers.get('cache-control'), 'no-store', 'decrypted: not kept in the TV browser cache')
  const image = Buffer.from(await response.arrayBuffer())
  t.match(await probeImage(image), { codec_name: 'mjpeg', width: 1600, height: 90 }, 'ten 160x90 tiles in a row')
})

t.test('once the film is sold the sheet is refused', async t => {
  await transferFilm(owner, devnet.accounts.otherCollector.address, devnet.contractAddress, published.tokenId)
  await waitFor('the film to be locked', async () => (await libraryFilm(box.url, published.tokenId, screen))?.state === 'locked')
  t.equal((await fetch(`${box.url}/api/films/${published.tokenId}/thumbnails`, { headers: screen })).status, 403)
})
