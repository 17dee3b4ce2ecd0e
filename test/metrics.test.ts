// GET /metrics of a box and of the monitor, in the Prometheus text format that Debian's promtool accepts,
// with the same figures the box reports (a film streamed to the screen included).
import t from 'tap'
import { spawn } from 'node:child_process'
import { NODES_PATH, type HealthReport } from '../server/wire/monitor-protocol.ts'
import { devnetWallet, startTestDevnet } from './helpers/devnet.ts'
import { getJson, libraryFilm, rawRequest } from './helpers/http.ts'
import { buyFilm, registerFilm } from './helpers/films.ts'
import { signInAsOwner } from './helpers/owner-session.ts'
import { daemonConfig, startTestDaemon, testDir } from './helpers/in-process.ts'
import { historySeqs, startTestMonitor } from './helpers/monitor.ts'
import { waitFor } from './helpers/wait-for.ts'

/** `promtool check metrics` over `text`: its exit code and what it printed. */
async function promtool(text: string): Promise<{ code: number | null; output: string }> {
  const child = spawn('promtool', ['check', 'metrics'], { timeout: 30_000 })
  let output = ''
  child.stdout.on('data', chunk => (output += chunk))
  child.stderr.on('data', chunk => (output += chunk))
  const code = new Promise<number | null>(resolve => child.once('close', resolve))
  child.stdin.end(text)
  return { code: await code, output }
}

async function scrape(url: string): Promise<{ contentType: string | null; text: string }> {
  const response = await fetch(`${url}/metrics`)
  if (response.status !== 200) throw new Error(`GET ${url}/metrics: ${response.status}`)
  return { contentType: response.headers.get('content-type'), text: await response.text() }
}

/** The value of one sample line (name with its labels, as exposed). */
function sample(text: string, series: string): number | undefined {
  const line = text.split('\n').find(l => l.startsWith(`${series} `))
  return line === undefined ? undefined : Number(line.slice(series.length + 1))
}

const devnet = await startTestDevnet(t)
const monitor = await startTestMonitor(t, testDir(t, 'monitor'))
const custodian = await startTestDaemon(t, daemonConfig(devnet, testDir(t, 'custodian'), ['custodian']))
const box = await startTestDaemon(t, {
  ...daemonConfig(devnet, testDir(t, 'box'), ['player'], custodian.multiaddrs()),
  monitorUrl: monitor.url
})
await waitFor('the box to report', async () => (await historySeqs(monitor.url, box.identity.deviceId)).length >= 1)

t.test("the box's /metrics passes promtool and carries the report's figures", async t => {
  const { contentType, text } = await scrape(box.url)
  t.match(contentType, /^text\/plain; version=0\.0\.4/)
  const check = await promtool(text)
  t.equal(check.code, 0, `promtool check metrics: ${check.output}`)
  t.equal(check.output.trim(), '', 'no lint complaint either')

  t.equal(sample(text, `seedone_info{device_id="${box.identity.deviceId}",version="0.1.0",roles="player"}`), 1)
  for (const name of [
    'seedone_cpu_load_ratio',
    'seedone_memory_total_bytes',
    'seedone_disk_free_bytes',
    'seedone_network_receive_bytes_total',
    'seedone_pins',
    'seedone_pinned_bytes',
    'seedone_replica_quota_bytes',
    'seedone_replication_enabled',
    'seedone_peers_connected',
    'seedone_streams_served_total',
    'seedone_errors_total',
    'seedone_reports_queued',
    'seedone_reports_delivered_total',
    'process_cpu_user_seconds_total',
    'nodejs_heap_size_used_bytes'
  ]) {
    t.ok(sample(text, name) !== undefined, name)
  }
  t.equal(sample(text, 'seedone_chain_sync_lag_blocks'), undefined, 'no owner: no lag sample rather than a made-up 0')

  const [{ report }] = (
    await getJson<{ reports: Array<{ report: HealthReport }> }>(`${monitor.url}${NODES_PATH}/${box.identity.deviceId}/reports`)
  ).reports
  t.equal(sample(text, 'seedone_pins'), report.storage.pinsHeld, 'the same pins figure as the report')
  t.equal(sample(text, 'seedone_replica_quota_bytes'), report.storage.quotaBytes, 'the same quota as the report')
  t.equal(sample(text, 'seedone_disk_total_bytes'), report.system.disk.totalBytes, 'the same disk as the report')
  t.ok((sample(text, 'seedone_reports_delivered_total') ?? 0) >= 1, 'the delivered report is counted')
})

t.test("the monitor's /metrics passes promtool and shows the node", async t => {
  const { text } = await scrape(monitor.url)
  const check = await promtool(text)
  t.equal(check.code, 0, `promtool check metrics: ${check.output}`)
  t.equal(check.output.trim(), '', 'no lint complaint either')
  t.equal(sample(text, `seedone_monitor_node_up{device_id="${box.identity.deviceId}"}`), 1)
  t.equal(sample(text, 'seedone_monitor_nodes{state="live"}'), 1)
  t.ok((sample(text, 'seedone_monitor_reports_total{result="accepted"}') ?? 0) >= 1)
  t.equal(sample(text, 'seedone_monitor_cids'), 0, 'a player that holds nothing')
})

t.test('a film streamed to the screen is counted', async t => {
  const owner = devnetWallet(t, devnet, devnet.accounts.owner.privateKey)
  const creator = devnetWallet(t, devnet, devnet.accounts.creator.privateKey)
  const { headers } = await signInAsOwner(box.url, owner)
  const film = await registerFilm({ custodian, creator, contractAddress: devnet.contractAddress })
  await buyFilm(owner, devnet.contractAddress, film.tokenId)
  await waitFor('the film to be ready', async () => (await libraryFilm(box.url, film.tokenId, headers))?.state === 'ready', {
    timeoutMs: 90_000
  })
  const before = sample((await scrape(box.url)).text, 'seedone_streams_served_total') ?? NaN
  const streamUrl = `${box.url}/api/films/${film.tokenId}/stream`
  t.equal((await rawRequest(streamUrl, { headers: { ...headers, range: 'bytes=0-99' } })).status, 206)
  t.equal((await rawRequest(streamUrl, { method: 'HEAD', headers })).status, 200)
  t.equal(sample((await scrape(box.url)).text, 'seedone_streams_served_total'), before + 1, 'one GET counted, the HEAD not')

  // the film's blocks came from the custodian: counted on both sides, whichever path carried them
  const boxText = (await scrape(box.url)).text
  const fetched = ['http', 'bitswap'].map(path => sample(boxText, `seedone_block_fetch_bytes_total{path="${path}"}`) ?? NaN)
  t.ok(fetched[0]! + fetched[1]! >= film.plaintext.length, `the box fetched the film's blocks (http ${fetched[0]}, bitswap ${fetched[1]})`)
  const served = sample((await scrape(custodian.url)).text, 'seedone_peer_served_bytes_total') ?? NaN
  t.ok(served >= film.plaintext.length, `the custodian served them (${served} bytes)`)
  t.equal(sample(boxText, 'seedone_block_fetch_refused_total'), 0)
})

t.test('promtool is a real check: it refuses a broken exposition', async t => {
  const check = await promtool('# TYPE seedone_x counter\nseedone_x 1\n')
  t.not(check.code, 0, 'a counter without _total is refused')
})
