// The Health screen's history: real readings of this machine (readSystemStats) kept in the real
// level database, pruned to the last day, and served to anyone on the LAN.
import t from 'tap'
import { openStateDb, section } from '../server/storage/state-db.ts'
import { startHealthHistory } from '../server/health/history.ts'
import { readSystemStats } from '../server/health/system-stats.ts'
import type { SystemStats } from '../server/wire/monitor-protocol.ts'
import { startTestDevnet } from './helpers/devnet.ts'
import { getJson } from './helpers/http.ts'
import { daemonConfig, startTestDaemon, testDir } from './helpers/in-process.ts'
import { waitFor } from './helpers/wait-for.ts'

const DAY_MS = 24 * 3_600_000
const silent = { debug() {}, info() {}, warn() {}, error() {} } as unknown as Parameters<typeof startHealthHistory>[0]['log']

t.test('a sample at start and every interval; samples older than a day are dropped', async t => {
  const dataDir = testDir(t, 'data')
  const db = await openStateDb(dataDir)
  t.teardown(() => db.close())
  const store = section(db, 'health')
  const template = await readSystemStats(dataDir)
  const at = (msAgo: number): string => new Date(Date.now() - msAgo).toISOString()
  await store.put(`sample:${at(DAY_MS + 60_000)}`, { ...template, at: at(DAY_MS + 60_000) })
  await store.put(`sample:${at(DAY_MS - 60_000)}`, { ...template, at: at(DAY_MS - 60_000) })
  // a key the schema does not declare (another release's, say) is written past the typed view
  const raw = db.sublevel<string, unknown>('health', { valueEncoding: 'json' })
  await raw.put('other-key', template)

  const history = startHealthHistory({ db, dataDir, intervalMs: 300, log: silent })
  t.teardown(() => history.close())
  const samples = await waitFor('the recent old sample and four new ones', async () => {
    const kept = await history.samples()
    return kept.length >= 5 && kept
  })
  t.ok(
    samples.every(sample => Date.now() - Date.parse(sample.at) < DAY_MS),
    'nothing older than a day is served'
  )
  t.same(
    samples.map(s => s.at),
    samples.map(s => s.at).sort(),
    'oldest first'
  )
  t.equal((await store.entries()).filter(([key]) => key.startsWith('sample:')).length, samples.length, 'the old sample was deleted')
  t.ok(await raw.get('other-key'), 'other keys of the section are left alone')
  const latest = samples.at(-1) as SystemStats
  t.ok(latest.memory.totalBytes > 0 && latest.disk.totalBytes > 0 && latest.cpu.cores > 0, 'real readings')

  await history.close()
  const count = (await history.samples()).length
  await new Promise(resolve => setTimeout(resolve, 1000))
  t.equal((await history.samples()).length, count, 'no sample after stop')
})

t.test('GET /api/health/history: the box took a sample at start, and guests may read it', async t => {
  const devnet = await startTestDevnet(t)
  const box = await startTestDaemon(t, daemonConfig(devnet, testDir(t, 'box'), ['player']))
  const { samples } = await waitFor('the first sample', async () => {
    const body = await getJson<{ samples: SystemStats[] }>(`${box.url}/api/health/history`)
    return body.samples.length > 0 && body
  })
  t.equal(samples.length, 1, 'one sample: the next is five minutes away')
  t.match(samples[0], {
    at: String,
    cpu: { loadPercent: Number, load1: Number, cores: Number },
    memory: { totalBytes: Number, usedBytes: Number, availableBytes: Number },
    disk: { totalBytes: Number, usedBytes: Number, freeBytes: Number },
    network: { rxBytes: Number, txBytes: Number }
  })
})
