// Health reports from a real box to a real monitor (in this process, on 127.0.0.1, real level and
// device keys): the on-disk queue rides out a monitor outage and a box restart, and the monitor ends
// up with every report exactly once and in order.
import t from 'tap'
import { signPayload } from '../server/identity/device-signature.ts'
import { loadOrCreateDeviceIdentity } from '../server/identity/device-identity.ts'
import { openReportQueue } from '../server/health/report-queue.ts'
import { openStateDb } from '../server/storage/state-db.ts'
import { NODES_PATH, REPORTS_PATH, type HealthReport } from '../server/wire/monitor-protocol.ts'
import type { Daemon } from '../server/daemon.ts'
import { ConfigError, resolveDaemonConfig } from '../server/config.ts'
import { freePort } from './helpers/daemon-process.ts'
import { startTestDevnet } from './helpers/devnet.ts'
import { getJson, postJson } from './helpers/http.ts'
import { daemonConfig, startTestDaemon, testDir } from './helpers/in-process.ts'
import { historySeqs, startTestMonitor } from './helpers/monitor.ts'
import { waitFor } from './helpers/wait-for.ts'

const devnet = await startTestDevnet(t)

/** A figure from a Prometheus text exposition. */
async function metric(url: string, name: string): Promise<number> {
  const text = await (await fetch(`${url}/metrics`)).text()
  const line = text.split('\n').find(l => l.startsWith(`${name} `))
  if (line === undefined) throw new Error(`${name} is not in ${url}/metrics`)
  return Number(line.slice(name.length + 1))
}

t.test('queued reports reach a restarted monitor exactly once and in order, across a box restart', async t => {
  const monitorDir = testDir(t, 'monitor')
  const port = await freePort()
  let monitor = await startTestMonitor(t, monitorDir, { port })
  const config = { ...daemonConfig(devnet, testDir(t, 'box'), ['player']), monitorUrl: monitor.url, reportIntervalSec: 1 }
  let box: Daemon = await startTestDaemon(t, config)
  const deviceId = box.identity.deviceId

  await waitFor('two reports to arrive', async () => (await historySeqs(monitor.url, deviceId)).length >= 2)
  const first = await getJson<{ reports: Array<{ report: HealthReport }> }>(`${monitor.url}${NODES_PATH}/${deviceId}/reports`)
  const report = first.reports[0].report
  t.equal(report.apiUrl, box.url, 'the report says where the box is reached')
  t.same(report.lan, { addresses: [], uiPort: Number(new URL(box.url).port) }, 'its UI port; no LAN address: it listens on loopback')
  t.same(report.roles, ['player'])
  t.ok(report.system.memory.totalBytes > 0 && report.system.disk.totalBytes > 0, 'system figures are read')
  t.equal(report.service.chainSyncLag, null, 'no owner: no chain lag')

  await monitor.close()
  await waitFor('three reports to queue on the box', async () => (await metric(box.url, 'seedone_reports_queued')) >= 3, {
    timeoutMs: 30_000
  })
  await box.close()

  // One queued report reaches the monitor, but its 201 never reaches the box (a crash in between).
  monitor = await startTestMonitor(t, monitorDir, { port })
  const db = await openStateDb(config.dataDir)
  const queue = await openReportQueue(db, 2000)
  const queued = await queue.oldest(1000)
  await db.close()
  t.ok(queued.length >= 3, `${queued.length} reports kept on disk`)
  const [early] = queued
  t.equal((await postJson(`${monitor.url}${REPORTS_PATH}`, early.signed)).status, 201)

  box = await startTestDaemon(t, config)
  await waitFor(
    'the queue to drain',
    async () =>
      (await metric(box.url, 'seedone_reports_queued')) === 0 &&
      (await metric(box.url, 'seedone_reports_delivered_total')) >= queued.length,
    {
      timeoutMs: 60_000
    }
  )
  const seqs = await historySeqs(monitor.url, deviceId)
  const last = seqs[seqs.length - 1]
  t.same(
    seqs,
    Array.from({ length: last }, (_, i) => i + 1),
    `every seq from 1 to ${last}, once each, in order`
  )
  t.ok(last > queued[queued.length - 1].seq, 'reports made after the restart follow the queued ones')

  const { reports } = await getJson<{ reports: Array<{ report: HealthReport; receivedAt: string }> }>(
    `${monitor.url}${NODES_PATH}/${deviceId}/reports?limit=999`
  )
  const times = reports.map(entry => Date.parse(entry.report.timestamp))
  t.ok(
    times.every((time, i) => i === 0 || time > times[i - 1]),
    'report times strictly increase with seq'
  )
  t.ok(
    reports.every((entry, i) => i === 0 || entry.receivedAt >= reports[i - 1].receivedAt),
    'the monitor received them in seq order'
  )
  t.equal(
    await metric(monitor.url, 'seedone_monitor_reports_total{result="replayed"}'),
    1,
    'the report delivered before the crash was refused once, not doubled'
  )
})

t.test('the queue on disk is bounded: the oldest reports go first, and seqs never repeat', async t => {
  const dir = testDir(t, 'queue')
  const identity = await loadOrCreateDeviceIdentity(dir)
  const sign = (seq: number, timestamp: string) => signPayload(identity, { seq, timestamp })
  let db = await openStateDb(dir)
  let queue = await openReportQueue(db, 3)
  const results = []
  for (let i = 0; i < 5; i++) results.push(await queue.add(sign))
  t.same(
    results.map(r => r.dropped),
    [0, 0, 0, 1, 1],
    'one dropped per report beyond three'
  )
  const kept = await queue.oldest(10)
  t.same(
    kept.map(q => q.seq),
    [3, 4, 5]
  )
  const times = kept.map(q => JSON.parse(q.signed.payload).timestamp as string)
  t.ok(times[0] < times[1] && times[1] < times[2], 'times strictly increase, even within one millisecond')
  await db.close()

  db = await openStateDb(dir)
  t.teardown(() => db.close())
  queue = await openReportQueue(db, 3)
  t.equal(queue.size(), 3, 'the queue survives a restart')
  t.equal((await queue.add(sign)).seq, 6, 'seqs continue after a restart')
  await queue.remove(4)
  t.same(
    (await queue.oldest(10)).map(q => q.seq),
    [5, 6],
    'seq 3 dropped when seq 6 came, seq 4 removed'
  )
  await queue.skipPast(41)
  t.equal((await queue.add(sign)).seq, 42, 'after the monitor says it has 41, the next seq is 42')
})

t.test('the report settings are checked when the daemon is configured', async t => {
  const chain = { 'rpc-url': 'http://127.0.0.1:8545', contract: `0x${'1'.repeat(40)}` }
  const resolve = (values: Record<string, string>) => resolveDaemonConfig({ ...chain, ...values }, {})
  t.equal(resolve({}).reportIntervalSec, 300, 'every 5 minutes by default')
  t.equal(resolve({}).monitorUrl, undefined, 'no monitor, no reports')
  t.equal(resolve({ 'monitor-url': 'https://monitor.example/' }).monitorUrl, 'https://monitor.example', 'the trailing slash goes')
  t.throws(() => resolve({ 'monitor-url': 'monitor.example' }), ConfigError, 'a URL without a scheme')
  t.throws(
    () => resolve({ 'report-interval-sec': '7' }),
    /does not divide a minute, an hour or a day/,
    'an interval cron cannot keep evenly'
  )
  t.equal(resolve({ 'report-interval-sec': '900' }).reportIntervalSec, 900)
})
