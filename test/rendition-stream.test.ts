// Each rendition served as the film is: a 10-bit HEVC PQ source published by a real custodian (ffmpeg,
// Helia, the devnet's contract) and bought; the box plays each of its renditions, decrypted, with Range,
// to its signed-in screens only; a film without renditions, or a role it lacks, is a coded 404.
import t from 'tap'
import { execFile } from 'node:child_process'
import { mkdir } from 'node:fs/promises'
import { promisify } from 'node:util'
import { parseEther } from 'ethers'
import { daemonPublishContext, publishFilm } from '../server/publish/publish-film.ts'
import { openBuffer } from '../server/sealing/open.ts'
import { parseCid, parseFilmMetadata } from '../server/library/film-metadata.ts'
import { buyFilm, registerFilm, transferFilm } from './helpers/films.ts'
import { hdrSource } from './helpers/film-sources.ts'
import { libraryFilm, streamRequest } from './helpers/http.ts'
import { testDir } from './helpers/in-process.ts'
import { signedInCookie } from './helpers/owner-session.ts'
import { startTvWorld } from './helpers/tv-world.ts'
import { waitFor } from './helpers/wait-for.ts'

const run = promisify(execFile)
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
      ['sdr', `/api/films/${tokenId}/renditions/sdr/stream`, 'sdr', true],
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

/** The byte ranges (length@offset) a media playlist names: its EXT-X-MAP's first, then each segment's. */
function byteRanges(playlist: string): Array<{ offset: number; length: number }> {
  return [...playlist.matchAll(/BYTERANGE[:=]"?(\d+)@(\d+)/g)].map(([, length, offset]) => ({
    offset: Number(offset),
    length: Number(length)
  }))
}

t.test('HLS: a master playlist of the renditions, media playlists of byte ranges of their decrypted streams', async t => {
  const base = `${box.url}/api/films/${tokenId}/hls`
  const master = await fetch(`${base}/master.m3u8`, { headers: screen })
  t.equal(master.status, 200)
  t.equal(master.headers.get('content-type'), 'application/vnd.apple.mpegurl')
  t.equal(master.headers.get('cache-control'), 'no-store')
  const variants = [...(await master.text()).matchAll(/#EXT-X-STREAM-INF:(.*)\n(.*)/g)].map(([, attributes, uri]) => ({ attributes, uri }))
  t.same(variants.map(v => v.uri).sort(), ['low.m3u8', 'original.m3u8', 'sdr.m3u8'], 'every fragmented rendition')
  const original = variants.find(v => v.uri === 'original.m3u8')?.attributes ?? ''
  const metadata = parseFilmMetadata(await custodian.helia.content.readBytes(parseCid(published.metadataCid)))
  const codecs = metadata.renditions?.find(r => r.role === 'original')?.codecs
  t.match(codecs, /^hvc1\.2\.[^,]*,mp4a\.40\.2,mp4a\.40\.2,ec-3$/, 'two AAC tracks (English, French) and the E-AC-3 one')
  t.match(original, `CODECS="${codecs}",RESOLUTION=320x180,VIDEO-RANGE=PQ`, "every track's codec, the size, PQ")
  const peaks = variants.map(v => Number(/BANDWIDTH=(\d+)/.exec(v.attributes)?.[1]))
  t.same(
    peaks,
    [...peaks].sort((a, b) => a - b),
    'the lightest first: a native player starts there'
  )

  const asked = await (await fetch(`${base}/master.m3u8?roles=sdr,low`, { headers: screen })).text()
  t.same([...asked.matchAll(/^(\w+)\.m3u8$/gm)].map(m => m[1]).sort(), ['low', 'sdr'], '?roles= lists only those')

  for (const role of ['original', 'sdr', 'low']) {
    const playlist = await (await fetch(`${base}/${role}.m3u8`, { headers: screen })).text()
    const stream = `/api/films/${tokenId}/renditions/${role}/stream`
    t.match(playlist, `#EXT-X-MAP:URI="${stream}",BYTERANGE=`, `${role}: its init segment in its own stream`)
    t.match(playlist, /#EXT-X-ENDLIST\n$/)
    const whole = (await streamRequest(`${box.url}${stream}`, screen)).body
    const [init, ...segments] = byteRanges(playlist)
    t.equal(init.offset, 0)
    t.same(boxTypes(whole.subarray(0, init.length)), ['ftyp', 'moov'], `${role}: the init segment is ftyp and moov`)
    t.ok(segments.length >= 1, `${role}: ${segments.length} segments`)
    for (const [n, segment] of segments.entries()) {
      const bytes = (
        await streamRequest(`${box.url}${stream}`, { ...screen, range: `bytes=${segment.offset}-${segment.offset + segment.length - 1}` })
      ).body
      t.same(boxTypes(bytes), ['moof', 'mdat'], `${role} segment ${n}: one fragment, whole`)
      if (n > 0) t.equal(segment.offset, segments[n - 1].offset + segments[n - 1].length, 'right after the one before')
    }
    const seconds = [...playlist.matchAll(/#EXTINF:([\d.]+),/g)].reduce((sum, [, s]) => sum + Number(s), 0)
    t.ok(Math.abs(seconds - 2) < 0.1, `${role}: the segments play ${seconds} s of the 2 s film`)
  }
})

/** ffmpeg's MD5 of each decoded video frame of `input` (stream `map`), as a signed-in screen reads it. */
async function frameHashes(input: string, map: string): Promise<string[]> {
  // ffmpeg's HLS reader takes segments by file extension unless told (TV players do not look)
  const hls = input.endsWith('.m3u8') ? ['-allowed_segment_extensions', 'ALL', '-extension_picky', '0'] : []
  const { stdout, stderr } = await run('ffmpeg', [
    ...['-v', 'error', ...hls, '-headers', `Cookie: ${screen.cookie}\r\n`],
    ...['-i', input, '-map', map, '-fps_mode', 'passthrough', '-f', 'framemd5', '-']
  ])
  if (stderr !== '') throw new Error(`ffmpeg reading ${input}: ${stderr}`)
  return stdout
    .split('\n')
    .filter(line => /^\d/.test(line))
    .map(line => line.split(',').at(-1)?.trim() ?? '')
}

t.test('HLS through ffmpeg: each variant decodes from the playlists to the frames of its rendition', async t => {
  const master = `${box.url}/api/films/${tokenId}/hls/master.m3u8`
  const roles = [...(await (await fetch(master, { headers: screen })).text()).matchAll(/^(\w+)\.m3u8$/gm)].map(m => m[1])
  for (const [n, role] of roles.entries()) {
    const direct = await frameHashes(`${box.url}/api/films/${tokenId}/renditions/${role}/stream`, '0:v:0')
    const viaHls = await frameHashes(master, `0:p:${n}:v`)
    t.ok(direct.length >= 50, `${role}: ${direct.length} frames`)
    t.same(viaHls, direct, `${role}: the same frames through its HLS playlist`)
  }
})

t.test('HLS: signed in only; 404 where a film has no fragmented renditions', async t => {
  t.equal((await fetch(`${box.url}/api/films/${tokenId}/hls/master.m3u8`)).status, 401)
  t.equal((await fetch(`${box.url}/api/films/${tokenId}/hls/low.m3u8`)).status, 401)
  const none = await fetch(`${box.url}/api/films/${old.tokenId}/hls/master.m3u8`, { headers: screen })
  t.equal(none.status, 404)
  t.match(await none.json(), { code: 'SEED_FILM_ASSET_NOT_FOUND', message: `film ${old.tokenId} has no fragmented renditions to list` })
  t.equal((await fetch(`${box.url}/api/films/${tokenId}/hls/master.m3u8?roles=hd`, { headers: screen })).status, 400)
})

/** The types of the top-level boxes of an MP4 piece that starts on a box. */
function boxTypes(bytes: Buffer): string[] {
  const types = []
  for (let at = 0; at + 8 <= bytes.length; at += bytes.readUInt32BE(at)) types.push(bytes.toString('latin1', at + 4, at + 8))
  return types
}

t.test('a film transferred away: its renditions and playlists are refused with 403', async t => {
  await transferFilm(world.owner, world.devnet.accounts.otherCollector.address, world.devnet.contractAddress, tokenId)
  const rendition = `${box.url}/api/films/${tokenId}/renditions/low/stream`
  await waitFor(
    'the rendition to be refused',
    async () => {
      const response = await fetch(rendition, { headers: screen })
      await response.arrayBuffer()
      return response.status === 403
    },
    { timeoutMs: 30_000 }
  )
  t.pass('the low rendition: 403')
  for (const url of [`${rendition.replace('/low/', '/original/')}`, `${box.url}/api/films/${tokenId}/hls/master.m3u8`]) {
    const response = await fetch(url, { headers: screen })
    t.equal(response.status, 403, url)
    t.match(await response.json(), { code: 'SEED_FILM_NOT_OWNED' })
  }
})
