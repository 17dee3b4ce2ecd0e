// Each rendition served as the film is: a 10-bit HEVC PQ source published by a real custodian (ffmpeg,
// Helia, the devnet's contract) and bought; the box plays each of its renditions, decrypted, with Range,
// to its signed-in screens only; a film without renditions, or a role it lacks, is a coded 404.
import t from 'tap'
import { mkdir } from 'node:fs/promises'
import { parseEther } from 'ethers'
import { daemonPublishContext, publishFilm } from '../server/publish/publish-film.ts'
import { openBuffer } from '../server/sealing/open.ts'
import { parseCid, parseFilmMetadata } from '../server/library/film-metadata.ts'
import { buyFilm, registerFilm } from './helpers/films.ts'
import { hdrSource } from './helpers/hevc-source.ts'
import { libraryFilm, streamRequest } from './helpers/http.ts'
import { testDir } from './helpers/in-process.ts'
import { signedInCookie } from './helpers/owner-session.ts'
import { startTvWorld } from './helpers/tv-world.ts'
import { waitFor } from './helpers/wait-for.ts'

const world = await startTvWorld(t)
const { box, custodian } = world
const work = testDir(t, 'work')
await mkdir(work, { recursive: true })
const published = await publishFilm(daemonPublishContext(custodian, world.creator), {
  input: await hdrSource(work, 'pq'),
  title: 'PQ Pattern',
  priceWei: parseEther('0.01')
})
const { tokenId } = published
await buyFilm(world.owner, world.devnet.contractAddress, tokenId)
const old = await registerFilm({ custodian, creator: world.creator, contractAddress: world.devnet.contractAddress })
await buyFilm(world.owner, world.devnet.contractAddress, old.tokenId)
const screen = await signedInCookie(box.url, world.owner)
const film = await waitFor('the film, playable', async () => (await libraryFilm(box.url, tokenId, screen))?.playable === true && true, {
  timeoutMs: 60_000
}).then(async () => (await libraryFilm(box.url, tokenId, screen))!)

t.test('the library lists each rendition, best first, with what an engine is asked about', async t => {
  t.same(
    film.renditions.map(r => [r.role, r.url, r.hdr, r.fragmented]),
    [
      ['original', `/api/films/${tokenId}/renditions/original/stream`, 'pq', true],
      ['sdr', `/api/films/${tokenId}/renditions/sdr/stream`, 'sdr', false],
      ['low', `/api/films/${tokenId}/renditions/low/stream`, 'sdr', true]
    ]
  )
  t.match(film.renditions[0], { videoCodecs: /^hvc1\.2\./, audioCodecs: 'mp4a.40.2', width: 320, height: 180 })
  t.match(film.renditions[2], { videoCodecs: /^avc1\.64/, audioCodecs: 'mp4a.40.2' })
  t.ok(film.renditions[2].bitrate < film.renditions[1].bitrate, 'low has fewer bits a second than sdr')
})

t.test('each rendition is its sealed file decrypted, whole and by Range, signed in only', async t => {
  const metadata = parseFilmMetadata(await custodian.helia.content.readBytes(parseCid(published.metadataCid)))
  const key = (await custodian.custody?.get(metadata.content.cid)) as Uint8Array
  for (const rendition of metadata.renditions ?? []) {
    const url = `${box.url}/api/films/${tokenId}/renditions/${rendition.role}/stream`
    const plaintext = openBuffer(key, await custodian.helia.content.readBytes(parseCid(rendition.cid)))
    const whole = await streamRequest(url, screen)
    t.equal(whole.status, 200, rendition.role)
    t.equal(whole.headers['content-type'], 'video/mp4')
    t.equal(whole.headers['cache-control'], 'no-store', 'kept off the TV disk cache, as /stream')
    t.ok(whole.body.equals(plaintext), `${rendition.role}: the decrypted rendition, ${plaintext.length} bytes`)
    const part = await streamRequest(url, { ...screen, range: 'bytes=100-4195' })
    t.equal(part.status, 206)
    t.equal(part.headers['content-range'], `bytes 100-4195/${plaintext.length}`)
    t.ok(part.body.equals(plaintext.subarray(100, 4196)), `${rendition.role}: the range's bytes`)
    const head = await streamRequest(url, screen, 'HEAD')
    t.equal(head.headers['content-length'], String(plaintext.length), 'HEAD: the length, no body')
    t.equal(head.body.length, 0)
    t.equal((await streamRequest(url)).status, 401, 'a guest gets nothing')
  }
  const sdr = await streamRequest(`${box.url}/api/films/${tokenId}/renditions/sdr/stream`, screen)
  const content = await streamRequest(`${box.url}/api/films/${tokenId}/stream`, screen)
  t.ok(sdr.body.equals(content.body), 'sdr is the film /stream serves')
})

t.test('a role the film lacks is a coded 404; an unknown role a 400', async t => {
  await waitFor('the old film playable', async () => (await libraryFilm(box.url, old.tokenId, screen))?.playable === true, {
    timeoutMs: 60_000
  })
  t.same((await libraryFilm(box.url, old.tokenId, screen))?.renditions, [], 'a film published before renditions lists none')
  const missing = await fetch(`${box.url}/api/films/${old.tokenId}/renditions/low/stream`, { headers: screen })
  t.equal(missing.status, 404)
  t.match(await missing.json(), {
    code: 'SEED_FILM_ASSET_NOT_FOUND',
    message: `film ${old.tokenId} has no low rendition; it has none: play its /stream`
  })
  const unknown = await fetch(`${box.url}/api/films/${tokenId}/renditions/4k/stream`, { headers: screen })
  t.equal(unknown.status, 400)
})
