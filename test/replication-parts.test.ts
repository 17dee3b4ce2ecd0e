// Every part of a published film replicated: a real publish (ffmpeg: poster, English subtitles,
// thumbnail sheets, renditions) on a custodian, three storage nodes with k = 3 and a monitor that
// follows the chain, all on 127.0.0.1. Each part reaches 3 copies on the nodes (from their own pins),
// and the monitor's health counts every part and finds none under the minimum; its fleet view lists
// the film by title with its parts, and each node with its address. The nodes report at the default
// interval (300 s): the monitor learns of their pins from the early reports a pin change brings.
import t from 'tap'
import { CID } from 'multiformats/cid'
import { filmParts } from '../server/replication/catalogue.ts'
import { parseFilmMetadata } from '../server/library/film-metadata.ts'
import { generateDemoClip } from '../server/publish/demo-clip.ts'
import { daemonPublishContext, publishFilm } from '../server/publish/publish-film.ts'
import { isPinned } from '../server/storage/content.ts'
import type { Fleet } from '../server/monitor/fleet.ts'
import type { Daemon } from '../server/daemon.ts'
import { devnetWallet, startTestDevnet } from './helpers/devnet.ts'
import { getJson } from './helpers/http.ts'
import { daemonConfig, startTestDaemon, testDir } from './helpers/in-process.ts'
import { startTestMonitor } from './helpers/monitor.ts'
import { collectPageErrors, launchChromium, newTvPage, saveScreenshot } from './helpers/chromium.ts'
import { waitFor } from './helpers/wait-for.ts'

const K = 3

t.test('a published film reaches 3 copies of every part, and the monitor counts none under 3', async t => {
  const devnet = await startTestDevnet(t)
  const creator = devnetWallet(t, devnet, devnet.accounts.creator.privateKey)
  const monitor = await startTestMonitor(t, testDir(t, 'monitor'), {
    minReplicas: K,
    chain: { rpcUrl: devnet.rpcUrl, contractAddress: devnet.contractAddress, deploymentBlock: devnet.deploymentBlock, confirmations: 0 }
  })
  const custodian = await startTestDaemon(t, daemonConfig(devnet, testDir(t, 'custodian'), ['custodian']))
  const clip = await generateDemoClip(testDir(t, 'clip'), { seconds: 4, width: 320, height: 180 })
  const film = await publishFilm(daemonPublishContext(custodian, creator), {
    input: clip.video,
    title: 'Every part',
    subtitles: [{ file: clip.subtitles, language: 'en', label: 'English' }],
    priceWei: 1n
  })
  const metadataBytes = await custodian.helia.content.readBytes(CID.parse(film.metadataCid))
  const parts = filmParts(film.metadataCid, metadataBytes.byteLength, parseFilmMetadata(metadataBytes))
  const kinds = new Set(parts.map(part => part.kind))
  for (const kind of ['metadata', 'content', 'poster', 'subtitles', 'thumbnails'] as const)
    t.ok(kinds.has(kind), `the film has a ${kind} part`)

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
      held = parts.map((part, i) => `${part.kind} ${counts[i]}`).join(', ')
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
    fleet.films[0].parts.map(part => [part.kind, part.cid, part.copies]),
    parts.map(part => [part.kind, part.cid, K]),
    'each part of the metadata, with its copies'
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
  await saveScreenshot(page, 'monitor-fleet-films')
  t.same(errors, [], 'no errors in the page')
})
