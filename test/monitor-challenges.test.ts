// Proof of holding on real daemons: a custodian that replicates its own film reports to the monitor,
// the monitor learns the film's leaves through the box's block route and challenges it; once a leaf
// is deleted from the box's disk it fails, twice in a row puts the CID in its failed list, and a
// pass after the block is back clears it.
import t from 'tap'
import path from 'node:path'
import { readFile, rm, writeFile } from 'node:fs/promises'
import { NextToLast } from 'blockstore-fs/sharding'
import type { CID } from 'multiformats/cid'
import { BLOCK_PATH } from '../server/wire/monitor-protocol.ts'
import { fetchVerifiedBlock } from '../server/monitor/block-fetch.ts'
import { sampleLeaves } from '../server/monitor/dag-sampler.ts'
import type { ChallengeOutcome } from '../server/monitor/challenger.ts'
import { childCids } from './helpers/blocks.ts'
import { collectPageErrors, launchChromium, newTvPage, saveScreenshot } from './helpers/chromium.ts'
import { devnetWallet, startTestDevnet } from './helpers/devnet.ts'
import { registerFilm } from './helpers/films.ts'
import { getJson, rawRequest } from './helpers/http.ts'
import { daemonConfig, startTestDaemon, testDir } from './helpers/in-process.ts'
import { registry, startTestMonitor } from './helpers/monitor.ts'
import { waitFor } from './helpers/wait-for.ts'

const MiB = 1024 * 1024
const devnet = await startTestDevnet(t)
const creator = devnetWallet(t, devnet, devnet.accounts.creator.privateKey)
const monitor = await startTestMonitor(t, testDir(t, 'monitor'), { challengeBlocks: 8, failuresBeforeFailed: 2 })
const boxDir = testDir(t, 'box')
const box = await startTestDaemon(t, {
  ...daemonConfig(devnet, boxDir, ['custodian', 'storage']),
  monitorUrl: monitor.url,
  reportIntervalSec: 1
})
const deviceId = box.identity.deviceId
const film = await registerFilm({ custodian: box, creator, contractAddress: devnet.contractAddress, bytes: 2.5 * MiB })
const contentCid = film.contentCid.toString()
const leaves = await childCids(box.helia, film.contentCid)

const node = async () => (await registry(monitor.url)).find(n => n.deviceId === deviceId)
await waitFor('the box to report holding the film', async () => (await node())?.held.includes(contentCid), { timeoutMs: 90_000 })

const deleted = leaves[1]
let deletedBytes = Buffer.alloc(0)

/** Challenges the box until the monitor picks the film's content (it also holds the metadata): that outcome. */
async function challengeContent(): Promise<ChallengeOutcome> {
  for (let attempt = 0; attempt < 60; attempt++) {
    const outcome = await monitor.challenger.challenge(deviceId)
    if (outcome?.cid === contentCid) return outcome
  }
  throw new Error('60 challenges and none was of the content')
}

/** The file the box's blockstore keeps `cid` in. */
function blockFile(cid: CID): string {
  const { dir, file } = new NextToLast().encode(cid)
  return path.join(boxDir, 'helia', 'blocks', dir, file)
}

t.test('the monitor finds the leaves through the block route, checking every block', async t => {
  t.equal(leaves.length, 3, 'a 2.5 MiB film has three 1 MiB leaves')
  const picked = await sampleLeaves(film.contentCid, 8, cid =>
    fetchVerifiedBlock(cid, [box.url], { maxBytes: 2 * MiB, signal: AbortSignal.timeout(30_000) })
  )
  t.same(picked.map(String).sort(), leaves.map(String).sort(), 'with 8 asked of 3, every leaf once')
  const two = await sampleLeaves(film.contentCid, 2, cid =>
    fetchVerifiedBlock(cid, [box.url], { maxBytes: 2 * MiB, signal: AbortSignal.timeout(30_000) })
  )
  t.equal(new Set(two.map(String)).size, 2, 'two distinct leaves when two are asked')
})

t.test('a box holding its blocks passes', async t => {
  const outcome = await challengeContent()
  t.ok(outcome.passed, `passed${outcome.reason ? `: ${outcome.reason}` : ''}`)
  const current = await node()
  t.equal(current?.score, 1)
  t.same(current?.failed, [])
})

t.test('a box that deleted a block fails, and after two failures in a row the CID is in its failed list', async t => {
  deletedBytes = await readFile(blockFile(deleted))
  await rm(blockFile(deleted))
  t.equal((await rawRequest(`${box.url}${BLOCK_PATH.replace(':cid', String(deleted))}`)).status, 404, 'the block is gone from the box')

  const first = await challengeContent()
  t.notOk(first.passed, 'the first challenge after the deletion fails')
  t.match(first.reason, String(deleted), `the reason names the block: ${first.reason}`)
  t.notOk((await node())?.failed.includes(contentCid), 'one failure is not yet "not holding"')

  const second = await challengeContent()
  t.notOk(second.passed, 'the second fails too')
  const failing = await node()
  t.ok(failing?.failed.includes(contentCid), 'the registry lists the CID as failed: its share is reassigned')
  t.ok((failing?.score ?? 1) < 1, `the score fell to ${failing?.score}`)
  const fleet = await getJson(`${monitor.url}/api/fleet`)
  t.same(fleet.nodes[0].challenges.failedCids, [contentCid], 'the dashboard shows it')
  t.ok(
    fleet.replication.lowest.some((entry: { cid: string; copies: number }) => entry.cid === contentCid && entry.copies === 0),
    'no live copy counts'
  )
  const metrics = await (await fetch(`${monitor.url}/metrics`)).text()
  t.match(metrics, new RegExp(`seedone_monitor_node_failed_cids\\{device_id="${deviceId}"\\} 1\\n`))
})

t.test('the fleet dashboard shows the node, its failed CID and the under-replicated CIDs', async t => {
  const browser = await launchChromium()
  t.teardown(() => browser.close())
  const page = await newTvPage(browser, { width: 1440, height: 900 })
  const errors = collectPageErrors(page)
  page.on('console', message => {
    if (message.type() === 'error') errors.push(message.text())
  })
  await page.goto(monitor.url)
  await page.locator('table.nodes tbody tr').first().waitFor({ timeout: 30_000 })
  const row = await page.locator('table.nodes tbody tr').first().innerText()
  t.match(row, 'Live')
  t.match(row, deviceId.slice(0, 8), 'the node, by its shortened id')
  t.match(row, '1 failed', 'its failed CID')
  t.match(row, '%', 'its challenge score')
  const figures = await page.locator('.figures').innerText()
  t.match(figures, /1 \/ 1\s+Nodes live/)
  t.match(figures, /3\s+Under 3 copies/, 'the metadata and the poster (1 copy each) and the content (none)')
  t.match(figures, /1\s+Without a copy/)
  await saveScreenshot(page, 'monitor-fleet-dashboard')
  t.same(errors, [], 'no errors in the page')
})

t.test('with the block back, a pass clears the failed list', async t => {
  await writeFile(blockFile(deleted), deletedBytes)
  const after = await challengeContent()
  t.ok(after.passed, 'with the block back it passes')
  t.notOk((await node())?.failed.includes(contentCid), 'and the CID leaves the failed list')
})
