// Every part of a published film, its renditions included, pinned and replicated: a real publish
// (ffmpeg: a 10-bit HEVC HDR source, so an HDR original and a low-bitrate rendition besides the SDR
// content; poster, English subtitles, thumbnail sheets) on a custodian; the owner's box pins every part;
// three storage nodes with k = 3 and a monitor that follows the chain, all on 127.0.0.1: each part
// reaches 3 copies on the nodes (from their own pins), and the monitor's health counts every part and
// finds none under the minimum; its fleet view lists the film by title with its parts by name, and each
// node with its address. The nodes report at the default interval (300 s): the monitor learns of their
// pins from the early reports a pin change brings.
import t from 'tap'
import { writeFile } from 'node:fs/promises'
import path from 'node:path'
import { CID } from 'multiformats/cid'
import { filmParts } from '../server/library/film-parts.ts'
import { parseFilmMetadata } from '../server/library/film-metadata.ts'
import { daemonPublishContext, publishFilm } from '../server/publish/publish-film.ts'
import { isPinned } from '../server/storage/content.ts'
import type { Fleet } from '../server/monitor/fleet.ts'
import type { Daemon } from '../server/daemon.ts'
import { devnetWallet, startTestDevnet } from './helpers/devnet.ts'
import { buyFilm } from './helpers/films.ts'
import { hdrSource } from './helpers/film-sources.ts'
import { getJson, libraryFilm } from './helpers/http.ts'
import { daemonConfig, startTestDaemon, testDir } from './helpers/in-process.ts'
import { startTestMonitor } from './helpers/monitor.ts'
import { signedInCookie } from './helpers/owner-session.ts'
import { collectPageErrors, launchChromium, newTvPage, saveScreenshot } from './helpers/chromium.ts'
import { waitFor } from './helpers/wait-for.ts'

const K = 3

const devnet = await startTestDevnet(t)
const creator = devnetWallet(t, devnet, devnet.accounts.creator.privateKey)
const monitor = await startTestMonitor(t, testDir(t, 'monitor'), {
  minReplicas: K,
  chain: { rpcUrl: devnet.rpcUrl, contractAddress: devnet.contractAddress, deploymentBlock: devnet.deploymentBlock, confirmations: 0 }
})
const custodian = await startTestDaemon(t, daemonConfig(devnet, testDir(t, 'custodian'), ['custodian']))
const work = testDir(t, 'work')
const source = await hdrSource(work, 'pq')
const subtitles = path.join(work, 'film.en.srt')
await writeFile(subtitles, '1\n00:00:00,000 --> 00:00:01,500\nEvery part\n')
const film = await publishFilm(daemonPublishContext(custodian, creator), {
  input: source,
  title: 'Every part',
  subtitles: [{ file: subtitles, language: 'en', label: 'English' }],
  priceWei: 1n
})
const metadataBytes = await custodian.helia.content.readBytes(CID.parse(film.metadataCid))
const parts = filmParts(film.metadataCid, parseFilmMetadata(metadataBytes))

t.test("the film's parts: the small ones, then the content, then the other renditions", async t => {
  t.same(
    parts.map(part => part.kind),
    ['metadata', 'poster', 'subtitles', 'thumbnails', 'content', 'rendition', 'rendition'],
    'each part once (the SDR rendition is the content), the content before the other renditions'
  )
  t.same(
    parts.slice(0, 4).map(part => part.name),
    ['metadata', 'poster', 'English subtitles', 'thumbnail sheet 0']
  )
  t.same(
    parts
      .slice(5)
      .map(part => part.name)
      .sort(),
    ['HDR original', 'low-bitrate'],
    'the renditions by what they are'
  )
  t.ok(parts[5].bytes <= parts[6].bytes, 'the smaller rendition first')
})

t.test("the owner's box pins every part of the film it bought, its renditions included", async t => {
  const owner = devnetWallet(t, devnet, devnet.accounts.owner.privateKey)
  const box = await startTestDaemon(t, { ...daemonConfig(devnet, testDir(t, 'box'), ['player'], custodian.multiaddrs()), chainPollMs: 100 })
  const screen = await signedInCookie(box.url, owner)
  await buyFilm(owner, devnet.contractAddress, film.tokenId, 1n)
  let state: string | undefined
  await waitFor(
    'the bought film to be ready on the box',
    async () => {
      state = (await libraryFilm(box.url, film.tokenId, screen))?.state
      return state === 'ready'
    },
    { timeoutMs: 60_000, lastSeen: () => state }
  )
  for (const part of parts) t.ok(await isPinned(box.helia, CID.parse(part.cid)), `the box pins the film's ${part.name}`)
})

t.test('a published film reaches 3 copies of every part, and the monitor counts none under 3', async t => {
  const nodes: Daemon[] = []
  for (let i = 0; i < K; i++) {
    nodes.push(
      await startTestDaemon(t, {
        ...daemonConfig(devnet, testDir(t, `node-${i}`), ['storage'], custodian.multiaddrs()),
        monitorUrl: monitor.url,
        // the default interval: what the monitor learns before it comes from the reports a pin change brings forward
        reportIntervalSec: 300,
        chainPollMs: 500,
        pinStallMs: 10_000
      })
    )
  }
  let held = ''
  await waitFor(
    `${K} copies of each of the film's ${parts.length} parts`,
    async () => {
      const counts = await Promise.all(
        parts.map(async part => {
          let copies = 0
          for (const node of nodes) if (await isPinned(node.helia, CID.parse(part.cid))) copies++
          return copies
        })
      )
      held = parts.map((part, i) => `${part.name} ${counts[i]}`).join(', ')
      return counts.every(n => n === K)
    },
    { timeoutMs: 120_000, lastSeen: () => held }
  )
  t.pass(`copies per part: ${held}`)

  let seen: Fleet | undefined
  const fleet = await waitFor(
    'the monitor to count every part held',
    async () => {
      seen = await getJson<Fleet>(`${monitor.url}/api/fleet`)
      return seen.replication.cids === parts.length && seen.replication.underReplicated === 0 && seen
    },
    { timeoutMs: 60_000, lastSeen: () => seen?.replication }
  )
  t.same(fleet.replication.lowest, [], 'no CID under the minimum on live nodes')
  // what the dashboard draws: the film by its title with each part's copies, and each node's address
  t.same(
    fleet.films.map(f => [f.tokenId, f.title, f.complete]),
    [[film.tokenId, 'Every part', true]],
    'the film is listed by title, every part at its copies'
  )
  t.same(
    fleet.films[0].parts.map(part => [part.kind, part.name, part.cid, part.copies]),
    parts.map(part => [part.kind, part.name, part.cid, K]),
    'each part of the metadata by name, with its copies'
  )
  t.same(fleet.nodes.map(node => node.apiUrl).sort(), nodes.map(node => node.url).sort(), 'each node with the address its report gave')

  // and the dashboard draws it: the film by title, marked complete in green
  const browser = await launchChromium()
  t.teardown(() => browser.close())
  const page = await newTvPage(browser)
  const errors = collectPageErrors(page)
  await page.goto(monitor.url)
  await page.getByText('Every part', { exact: true }).waitFor({ timeout: 30_000 })
  t.equal(await page.locator('.status-complete').textContent(), `All at ${K}`, 'the film row says every part has its copies')
  t.equal(await page.locator('.figure-ok').count(), 2, 'complete films and no CID under the minimum: both figures green')
  t.equal(await page.locator('.part').count(), parts.length, 'one chip per part')
  for (const name of ['HDR original', 'low-bitrate'])
    t.equal(await page.locator('.part', { hasText: name }).count(), 1, `the ${name} rendition's chip names it`)
  await saveScreenshot(page, 'monitor-fleet-films')
  t.same(errors, [], 'no errors in the page')
})
