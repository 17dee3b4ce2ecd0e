// One film from chain to TV on real parts: devnet → publish (CLI) → custodian daemon → purchase →
// a box daemon in its own process pairs, syncs, gets the wrapped key, pins over bitswap and streams.
import t from 'tap'
import { execFile } from 'node:child_process'
import { readFile, readdir, stat } from 'node:fs/promises'
import path from 'node:path'
import { promisify } from 'node:util'
import { generateDemoClip } from '../server/publish/demo-clip.ts'
import { freePort, runCli, startDaemonProcess, type DaemonProcess } from './helpers/daemon-process.ts'
import { devnetCliFlags, devnetWallet, startTestDevnet } from './helpers/devnet.ts'
import { buyFilm, transferFilm } from './helpers/films.ts'
import { getJson, libraryFilm } from './helpers/http.ts'
import { makeCustodianDataDir } from './helpers/in-process.ts'
import { signedInCookie } from './helpers/owner-session.ts'
import { waitFor } from './helpers/wait-for.ts'

const dir = t.testdir()
const devnet = await startTestDevnet(t)
const chainFlags = [...devnetCliFlags(devnet), '--chain-poll-ms', '200']
const owner = devnetWallet(t, devnet, devnet.accounts.owner.privateKey)

const clip = await generateDemoClip(path.join(dir, 'clip'), { seconds: 12 })
const original = await readFile(clip.video)
const custodianDir = path.join(dir, 'custodian')
const boxDir = path.join(dir, 'box')
const custodianPort = await freePort()
const custodianP2pPort = await freePort()
await makeCustodianDataDir(custodianDir)

const published = JSON.parse(
  (
    await runCli([
      'publish',
      clip.video,
      '--title',
      'End to End',
      '--subtitles',
      clip.subtitles,
      '--price-wei',
      '1000',
      '--data-dir',
      custodianDir,
      '--custodian-url',
      `http://127.0.0.1:${custodianPort}`,
      // publish takes the chain flags it reads, not the daemons' polling interval
      ...devnetCliFlags(devnet)
    ])
  )
    .split('\n')
    .find(line => line.startsWith('{"tokenId"')) as string
)
const tokenId: string = published.tokenId

const custodianArgs = [
  '--role',
  'custodian',
  '--data-dir',
  custodianDir,
  '--port',
  String(custodianPort),
  '--p2p-listen',
  `/ip4/127.0.0.1/tcp/${custodianP2pPort}`,
  ...chainFlags
]
let custodian: DaemonProcess = await startDaemonProcess(custodianArgs)
t.teardown(() => custodian.close())

await buyFilm(owner, devnet.contractAddress, tokenId, 1000n)

const boxArgs = [
  '--data-dir',
  boxDir,
  '--port',
  '0',
  '--p2p-listen',
  '/ip4/127.0.0.1/tcp/0',
  '--peer',
  custodian.multiaddrs[0],
  ...chainFlags
]
let box: DaemonProcess = await startDaemonProcess(boxArgs)
t.teardown(() => box.close())

/** The owner's signed-in screen (the session is kept across the box's restart). */
let screen: Record<string, string> = {}
/** The published film in the box's library (the box changes at its restart). */
const filmOnBox = async () => await libraryFilm(box.url, tokenId, screen)
const streamUrl = (): string => `${box.url}/api/films/${tokenId}/stream`

t.test('the box pairs with the owner and the film becomes ready', async t => {
  screen = await signedInCookie(box.url, owner)
  const status = await getJson<{ owner: string; chainId: number }>(`${box.url}/api/status`, screen)
  t.equal(status.owner, owner.address)
  t.equal(status.chainId, 31337)
  const film = await waitFor(
    'the film to be ready',
    async () => {
      const f = await filmOnBox()
      if (f?.state === 'error') t.comment(`retrying after: ${f.error}`)
      return f?.state === 'ready' && f
    },
    { timeoutMs: 90_000 }
  )
  t.equal(film.title, 'End to End')
  t.equal(film.progress, 1)
  t.match(film.thumbnails, { intervalSec: 10, count: 2 }, 'publish made the seek thumbnails of the 12 s clip')
  t.same(film.storage.local, 'ready')
})

t.test('the full stream equals the published file byte for byte', async t => {
  const response = await fetch(streamUrl(), { headers: screen })
  t.equal(response.status, 200)
  t.equal(response.headers.get('accept-ranges'), 'bytes')
  t.equal(response.headers.get('content-type'), 'video/mp4')
  const body = Buffer.from(await response.arrayBuffer())
  t.equal(body.length, original.length)
  t.ok(body.equals(original), 'decrypted body equals the original')
})

t.test('ranges are answered per RFC 9110', async t => {
  const size = original.length
  for (let i = 0; i < 25; i++) {
    const start = Math.floor(Math.random() * size)
    const end = Math.min(size - 1, start + Math.floor(Math.random() * 300_000))
    const response = await fetch(streamUrl(), { headers: { ...screen, range: `bytes=${start}-${end}` } })
    t.equal(response.status, 206)
    t.equal(response.headers.get('content-range'), `bytes ${start}-${end}/${size}`)
    t.ok(Buffer.from(await response.arrayBuffer()).equals(original.subarray(start, end + 1)), `bytes ${start}-${end}`)
  }
  const suffix = await fetch(streamUrl(), { headers: { ...screen, range: 'bytes=-1000' } })
  t.ok(Buffer.from(await suffix.arrayBuffer()).equals(original.subarray(size - 1000)), 'suffix range')
  const unsatisfiable = await fetch(streamUrl(), { headers: { ...screen, range: `bytes=${size}-` } })
  t.equal(unsatisfiable.status, 416)
  t.equal(unsatisfiable.headers.get('content-range'), `bytes */${size}`)
  await unsatisfiable.arrayBuffer()
  const malformed = await fetch(streamUrl(), { headers: { ...screen, range: 'bytes=abc' } })
  t.equal(malformed.status, 200)
  t.equal(Number(malformed.headers.get('content-length')), size)
  await malformed.arrayBuffer()
})

t.test('ffprobe reads the stream URL', async t => {
  const { stdout } = await promisify(execFile)('ffprobe', [
    '-v',
    'error',
    '-print_format',
    'json',
    '-show_format',
    '-show_streams',
    // as a signed-in screen: ffmpeg's HTTP client sends the owner's session cookie
    '-headers',
    `Cookie: ${screen.cookie}\r\n`,
    streamUrl()
  ])
  const probe = JSON.parse(stdout) as { format: { duration: string }; streams: Array<{ codec_name: string }> }
  t.ok(Math.abs(Number(probe.format.duration) - 12) < 0.5, `duration ${probe.format.duration}`)
  t.same(probe.streams.map(s => s.codec_name).sort(), ['aac', 'h264'])
})

t.test('subtitles are served as WebVTT', async t => {
  const film = await filmOnBox()
  t.equal(film?.subtitles.length, 1)
  const response = await fetch(`${box.url}${film!.subtitles[0].url}`, { headers: screen })
  t.match(response.headers.get('content-type'), /^text\/vtt/)
  const srtFirstCue = (await readFile(clip.subtitles, 'utf8')).split('\n')[2]
  const vtt = await response.text()
  t.match(vtt, /^WEBVTT/)
  t.ok(vtt.includes(srtFirstCue), 'carries the SRT cue text')
})

/** Every regular file under `root`, recursively. */
async function filesUnder(root: string): Promise<string[]> {
  const entries = await readdir(root, { withFileTypes: true, recursive: true })
  return entries.filter(e => e.isFile()).map(e => path.join(e.parentPath, e.name))
}

t.test('no run of the film plaintext is on the box disk', async t => {
  // 64-byte samples from across the film, skipping the MP4 header's low-entropy boxes
  const samples = Array.from({ length: 200 }, (_, i) =>
    original.subarray(4096 + i * Math.floor((original.length - 8192) / 200), 4096 + i * Math.floor((original.length - 8192) / 200) + 64)
  )
  const files = await filesUnder(boxDir)
  t.ok(files.length > 5, `scanned ${files.length} files`)
  let scannedBytes = 0
  for (const file of files) {
    const bytes = await readFile(file)
    scannedBytes += bytes.length
    const found = samples.findIndex(sample => bytes.includes(sample))
    t.equal(found, -1, `${path.relative(boxDir, file)} holds no plaintext`)
  }
  t.ok(scannedBytes > original.length, 'the sealed film itself was among the scanned bytes')
  t.equal((await stat(path.join(boxDir, 'keys', 'device-x25519.key'))).mode & 0o777, 0o600)
})

t.test('after a restart the box plays without its custodian', async t => {
  await box.close()
  await custodian.close()
  box = await startDaemonProcess(boxArgs)
  const film = await filmOnBox()
  t.equal(film?.state, 'ready')
  const response = await fetch(streamUrl(), { headers: { ...screen, range: 'bytes=1000-1999999' } })
  t.equal(response.status, 206)
  t.ok(Buffer.from(await response.arrayBuffer()).equals(original.subarray(1000, 2_000_000)))
  const status = await getJson<{ owner: string }>(`${box.url}/api/status`, screen)
  t.equal(status.owner, owner.address, 'same owner after restart')
  custodian = await startDaemonProcess(custodianArgs)
})

t.test('a film transferred away is refused with 403', async t => {
  await transferFilm(owner, devnet.accounts.otherCollector.address, devnet.contractAddress, tokenId)
  const refused = await waitFor(
    'the stream to be refused',
    async () => {
      const response = await fetch(streamUrl(), { headers: screen })
      await response.arrayBuffer()
      return response.status === 403 && response
    },
    { timeoutMs: 30_000 }
  )
  t.equal(refused.status, 403)
  t.equal((await filmOnBox())?.state, 'locked')
})
