// The monitor on its own, over HTTP, with real device keys and a real level store: what it accepts,
// what it refuses (forged, replayed, out of order, malformed, not admitted), when it lists a node
// (its apiUrl answered for its key), liveness, history and node retention, and the catalogue it
// reads from a devnet.
import t from 'tap'
import { mkdir, writeFile } from 'node:fs/promises'
import path from 'node:path'
import { loadOrCreateDeviceIdentity, type DeviceIdentity } from '../server/identity/device-identity.ts'
import { signPayload } from '../server/identity/device-signature.ts'
import { startMonitor, type Monitor } from '../server/monitor/monitor.ts'
import { REPORTS_PER_MINUTE_PER_ADDRESS } from '../server/monitor/monitor-routes.ts'
import type { MonitorConfig } from '../server/monitor/monitor-config.ts'
import { REPORTS_PATH } from '../server/wire/monitor-protocol.ts'
import { isResting } from '../server/monitor/registry.ts'
import { getJson, postJson } from './helpers/http.ts'
import { testDir, type Test } from './helpers/in-process.ts'
import {
  healthReport as reportAt,
  historySeqs as seqsAt,
  monitorConfig,
  registry as registryAt,
  startTestMonitor as startMonitorIn
} from './helpers/monitor.ts'
import { startIdentityBox } from './helpers/peers.ts'
import { waitFor } from './helpers/wait-for.ts'
import { connectDevnet, startTestDevnet } from './helpers/devnet.ts'
import type { FleetFilm } from '../server/monitor/fleet.ts'

const send = (monitor: Monitor, body: unknown) => postJson(`${monitor.url}${REPORTS_PATH}`, body)
const registry = (monitor: Monitor) => registryAt(monitor.url)
const historySeqs = (monitor: Monitor, deviceId: string) => seqsAt(monitor.url, deviceId)
const startTestMonitor = (t: Test, name: string, overrides: Partial<MonitorConfig> = {}) => startMonitorIn(t, testDir(t, name), overrides)

const box = await loadOrCreateDeviceIdentity(testDir(t, 'box'))
const impostor = await loadOrCreateDeviceIdentity(testDir(t, 'impostor'))
// the box answers for its key at its apiUrl, as a daemon does: the monitor lists it only then
const boxUrl = (await startIdentityBox(t, box)).url
const CLAIMED = 'bafkreigh2akiscaildcqabsyg3dfr6chu3fgpregiymsck7e7aqa4s52zy'
const healthReport = (identity: DeviceIdentity, seq: number, at = new Date()) =>
  reportAt(identity, seq, { apiUrl: boxUrl, held: [CLAIMED], at })

/** The registry once it lists the box (its apiUrl is checked after the report is accepted). */
const listed = (monitor: Monitor) =>
  waitFor('the monitor to list the box', async () => {
    const nodes = await registry(monitor)
    return nodes.length > 0 && nodes
  })

t.test('a signed report is accepted, the node is registered live once its apiUrl answered for it, its claims once proven', async t => {
  const monitor = await startTestMonitor(t, 'accept')
  const accepted = await send(monitor, await signPayload(box, healthReport(box, 1)))
  t.equal(accepted.status, 201, accepted.body)
  const [node] = await listed(monitor)
  t.equal(node.deviceId, box.deviceId)
  t.equal(node.apiUrl, boxUrl)
  t.ok(node.live, 'live')
  t.same(node.held, [], 'the CID it claims is no copy: it has passed no challenge for it')
  t.same(node.failed, [])
  const challenged = await waitFor('the claim to be challenged at once', async () => {
    const [now] = await registry(monitor)
    return now.score < 1 && now
  })
  t.equal(challenged.score, 0, 'the claim was challenged at once, and failed: this box holds nothing')
  t.same(challenged.held, [])
  const { reports } = await getJson(`${monitor.url}/api/nodes/${box.deviceId}/reports`)
  t.same(
    reports[0].report.replication,
    { enabled: true, assigned: 1, met: 1, missing: 0, heldCount: 1 },
    'the history counts the held CIDs'
  )
})

t.test('forgeries are refused with 401 and change nothing', async t => {
  const monitor = await startTestMonitor(t, 'forged')
  t.equal((await send(monitor, await signPayload(box, healthReport(box, 1)))).status, 201)

  const signedByOther = await signPayload(impostor, healthReport(box, 2))
  t.equal((await send(monitor, signedByOther)).status, 401, "the box's report signed by another key")

  const genuine = await signPayload(box, healthReport(box, 2))
  const tampered = { ...genuine, payload: genuine.payload.replace('"temperatureC":51.2', '"temperatureC":41.2') }
  t.not(tampered.payload, genuine.payload)
  t.equal((await send(monitor, tampered)).status, 401, 'a figure changed after signing')

  const garbage = { ...genuine, signature: Buffer.alloc(64, 7).toString('base64url') }
  t.equal((await send(monitor, garbage)).status, 401, 'a signature of the right length that is not one')

  t.same(await historySeqs(monitor, box.deviceId), [1], 'only the genuine report was kept')
  t.equal((await send(monitor, genuine)).status, 201, 'the genuine seq 2 is still accepted: forgeries did not use it up')
})

t.test('one address flooding reports is refused with 429 before its bodies are read; other addresses still report', async t => {
  const monitor = await startTestMonitor(t, 'flood')
  const forged = await signPayload(impostor, healthReport(box, 1))
  const fromFlooder = { method: 'POST' as const, url: REPORTS_PATH, remoteAddress: '192.0.2.66' }
  const statuses: number[] = []
  for (let i = 0; i < REPORTS_PER_MINUTE_PER_ADDRESS; i++)
    statuses.push((await monitor.app.inject({ ...fromFlooder, payload: forged })).statusCode)
  t.same(new Set(statuses), new Set([401]), `the first ${REPORTS_PER_MINUTE_PER_ADDRESS} are checked (and are forgeries)`)

  const genuine = await signPayload(box, healthReport(box, 1))
  const refused = await monitor.app.inject({ ...fromFlooder, payload: genuine })
  t.equal(refused.statusCode, 429)
  t.match(refused.json(), { code: 'SEED_RATE_LIMITED' })
  t.equal(
    (await monitor.app.inject({ ...fromFlooder, payload: '{"not": json', headers: { 'content-type': 'application/json' } })).statusCode,
    429,
    'refused before the body is parsed'
  )
  t.same(await registry(monitor), [], 'nothing was registered')

  t.equal((await send(monitor, genuine)).status, 201, 'the same report from another address is accepted')
})

t.test('replays and out-of-order or repeated seqs are refused with 409 and the last seq', async t => {
  const monitor = await startTestMonitor(t, 'replay')
  const first = await signPayload(box, healthReport(box, 1))
  t.equal((await send(monitor, first)).status, 201)
  const replay = await send(monitor, first)
  t.equal(replay.status, 409, 'the same report again')
  t.equal(replay.json.lastSeq, 1)

  t.equal(
    (await send(monitor, await signPayload(box, healthReport(box, 3)))).status,
    201,
    'a gap is fine: reports may be dropped on the box'
  )
  const late = await send(monitor, await signPayload(box, healthReport(box, 2)))
  t.equal(late.status, 409, 'seq 2 after seq 3')
  t.equal(late.json.lastSeq, 3)
  const same = await send(monitor, await signPayload(box, healthReport(box, 3, new Date(Date.now() + 1000))))
  t.equal(same.status, 409, 'seq 3 again with a new time and signature')

  t.same(await historySeqs(monitor, box.deviceId), [1, 3])
  const metrics = await (await fetch(`${monitor.url}/metrics`)).text()
  t.match(metrics, /seedone_monitor_reports_total\{result="accepted"\} 2\n/)
  t.match(metrics, /seedone_monitor_reports_total\{result="replayed"\} 3\n/)
})

t.test('malformed reports are refused with 400', async t => {
  const monitor = await startTestMonitor(t, 'malformed')
  const sign = (value: object) => signPayload(box, value)
  const good = healthReport(box, 1)
  const cases: Array<[string, unknown]> = [
    ['payload not JSON', { payload: 'not json', signature: 'abc' }],
    ['a body field too many', { ...(await sign(good)), extra: 1 }],
    ['no signature', { payload: JSON.stringify(good) }],
    ['a report field missing', await sign({ ...good, seq: undefined })],
    ['an unknown report field', await sign({ ...good, owner: '0xabc' })],
    ['seq 0', await sign({ ...good, seq: 0 })],
    ['a time that is not ISO', await sign({ ...good, timestamp: 'yesterday' })],
    ['a negative disk', await sign({ ...good, system: { ...good.system, disk: { ...good.system.disk, freeBytes: -1 } } })],
    ['not an http URL', await sign({ ...good, apiUrl: 'file:///etc/passwd' })],
    ['an apiUrl with a path', await sign({ ...good, apiUrl: `${boxUrl}/admin` })],
    ['an apiUrl with a query', await sign({ ...good, apiUrl: `${boxUrl}?to=http://192.168.1.1` })],
    ['an apiUrl with userinfo', await sign({ ...good, apiUrl: 'http://user:pw@127.0.0.1:9' })],
    ['an apiUrl with a fragment', await sign({ ...good, apiUrl: `${boxUrl}#x` })],
    ['an apiUrl with a trailing slash', await sign({ ...good, apiUrl: `${boxUrl}/` })],
    ['an apiUrl with a bad port', await sign({ ...good, apiUrl: 'http://127.0.0.1:99999' })]
  ]
  for (const [what, body] of cases) t.equal((await send(monitor, body)).status, 400, what)
  t.same(await registry(monitor), [], 'nothing registered')
  t.equal((await send(monitor, await sign(good))).status, 201, 'the well-formed one is accepted')
})

t.test('a node without a report within the timeout is listed down, and live again when one comes', async t => {
  const monitor = await startTestMonitor(t, 'liveness', { nodeTimeoutMs: 1500 })
  t.equal((await send(monitor, await signPayload(box, healthReport(box, 1)))).status, 201)
  t.ok((await listed(monitor))[0].live)
  await waitFor('the node to be listed down', async () => !(await registry(monitor))[0].live, { timeoutMs: 20_000 })
  const fleet = await getJson(`${monitor.url}/api/fleet`)
  t.equal(fleet.nodes[0].live, false, 'the dashboard shows it down too')
  t.equal((await send(monitor, await signPayload(box, healthReport(box, 2)))).status, 201)
  t.ok((await registry(monitor))[0].live, 'live again')
})

t.test('history older than the retention is pruned on schedule; the last seq is still enforced', async t => {
  const monitor = await startTestMonitor(t, 'retention', { retentionMs: 2000, pruneSchedule: '* * * * * *' })
  for (const seq of [1, 2, 3]) t.equal((await send(monitor, await signPayload(box, healthReport(box, seq)))).status, 201)
  t.same(await historySeqs(monitor, box.deviceId), [1, 2, 3])
  await listed(monitor)
  await waitFor('the history to be pruned', async () => (await historySeqs(monitor, box.deviceId)).length === 0, { timeoutMs: 30_000 })
  t.equal((await registry(monitor)).length, 1, 'the node stays registered (the node retention is longer)')
  t.equal((await send(monitor, await signPayload(box, healthReport(box, 2)))).status, 409, 'a pruned seq cannot be replayed')
  t.equal((await send(monitor, await signPayload(box, healthReport(box, 4)))).status, 201)
  t.same(await historySeqs(monitor, box.deviceId), [4], 'a fresh report is kept')
})

t.test('a node silent past the node retention leaves the registry; its last seq is still enforced', async t => {
  const monitor = await startTestMonitor(t, 'node-retention', { nodeRetentionMs: 1500, pruneSchedule: '* * * * * *' })
  t.equal((await send(monitor, await signPayload(box, healthReport(box, 7)))).status, 201)
  await listed(monitor)
  await waitFor('the silent node to leave the registry', async () => (await registry(monitor)).length === 0, { timeoutMs: 30_000 })
  const fleet = await getJson(`${monitor.url}/api/fleet`)
  t.same(fleet.nodes, [], 'nor does the dashboard show it')
  t.equal((await send(monitor, await signPayload(box, healthReport(box, 7)))).status, 409, 'its old reports cannot bring it back')
  t.equal((await send(monitor, await signPayload(box, healthReport(box, 8)))).status, 201, 'a new report does')
  t.equal((await listed(monitor))[0].deviceId, box.deviceId)
})

t.test(
  'with an allow-list, only the device ids of the admit file may report and be listed; the file is read again as it changes',
  async t => {
    const admitDir = testDir(t, 'admit')
    await mkdir(admitDir, { recursive: true })
    const admitFile = path.join(admitDir, 'admitted')
    await writeFile(admitFile, `# the operator's rack\n${impostor.deviceId}\n`)
    const monitor = await startTestMonitor(t, 'allow-list', { admission: { mode: 'allow-list', admitFile } })
    const refused = await send(monitor, await signPayload(box, healthReport(box, 1)))
    t.equal(refused.status, 403, 'a device not on the list')
    t.match(refused.json, { code: 'SEED_NOT_ADMITTED' })
    t.same(await registry(monitor), [])
    await writeFile(admitFile, `${impostor.deviceId}\n${box.deviceId} # the new box\n`)
    // the monitor looks at the file once a second at most
    let seq = 1
    await waitFor('a report to be accepted once the box is in the file', async () => {
      const sent = await send(monitor, await signPayload(box, healthReport(box, ++seq)))
      return sent.status === 201
    })
    await listed(monitor)
    await writeFile(admitFile, `${impostor.deviceId}\n`)
    await waitFor('the box taken off the list to leave the registry', async () => (await registry(monitor)).length === 0)
    const metrics = await (await fetch(`${monitor.url}/metrics`)).text()
    t.match(metrics, /seedone_monitor_reports_total\{result="refused"\} [1-9]/)
  }
)

t.test('the registry and history survive a restart of the monitor', async t => {
  const dataDir = testDir(t, 'restart')
  const first = await startMonitor(monitorConfig(dataDir), { logLevel: 'silent' })
  t.equal((await send(first, await signPayload(box, healthReport(box, 5)))).status, 201)
  await first.close()
  const second = await startMonitorIn(t, dataDir)
  t.equal((await send(second, await signPayload(box, healthReport(box, 5)))).status, 409, 'seq 5 was kept through the restart')
  t.same(await historySeqs(second, box.deviceId), [5])
})

t.test('following the chain, a registered film nobody holds counts as without a copy', async t => {
  const devnet = await startTestDevnet(t)
  const monitor = await startMonitorIn(t, testDir(t, 'catalogue'), {
    chain: { rpcUrl: devnet.rpcUrl, contractAddress: devnet.contractAddress, deploymentBlock: devnet.deploymentBlock, confirmations: 0 }
  })
  const metadataCid = 'bafkreigh2akiscaildcqabsyg3dfr6chu3fgpregiymsck7e7aqa4s52zy'
  const { creator } = connectDevnet(t, devnet)
  const account = devnet.accounts.creator.address
  await (await creator.getFunction('registerFilm')(`ipfs://${metadataCid}`, 1n, 1000, [100, 5000], account, 500)).wait()
  const fleet = await waitFor(
    'the film to be in the catalogue',
    async () => {
      const fleet = await getJson(`${monitor.url}/api/fleet`)
      return fleet.replication.cids > 0 && fleet
    },
    { timeoutMs: 60_000 }
  )
  t.equal(fleet.replication.cids, 1, 'its metadata CID (the content CID is inside the metadata, which no box serves yet)')
  t.same(fleet.replication.lowest, [{ cid: metadataCid, copies: 0, resting: 0 }])
  t.equal(fleet.replication.withoutCopy, 1)
  t.same(
    fleet.films.map((film: FleetFilm) => [film.title, film.parts.map(part => [part.kind, part.cid, part.copies]), film.complete]),
    [[null, [['metadata', metadataCid, 0]], false]],
    'the dashboard lists it without a title until its metadata is read, its metadata the one part known'
  )
})

t.test('a node silent inside a window it announced is listed resting, one without is gone; windows are bounded', async t => {
  const monitor = await startTestMonitor(t, 'resting', { nodeTimeoutMs: 1000 })
  const hour = 60 * 60 * 1000
  const window = (reason: 'quiet-hours' | 'downtime', fromMs: number, toMs: number) => ({
    reason,
    start: new Date(Date.now() + fromMs).toISOString(),
    end: new Date(Date.now() + toMs).toISOString()
  })
  const other = await loadOrCreateDeviceIdentity(testDir(t, 'other-box'))
  const otherUrl = (await startIdentityBox(t, other)).url
  const announced = reportAt(box, 1, { apiUrl: boxUrl, rest: [window('downtime', -60_000, hour)] })
  t.equal((await send(monitor, await signPayload(box, announced))).status, 201)
  t.equal((await send(monitor, await signPayload(other, reportAt(other, 1, { apiUrl: otherUrl })))).status, 201, 'a report without windows')

  const silent = await waitFor('both to fall silent past the timeout', async () => {
    const nodes = await registry(monitor)
    return nodes.length === 2 && nodes.every(node => !node.live) && nodes
  })
  t.equal(silent.find(node => node.deviceId === box.deviceId)?.resting, true, 'inside its window: resting')
  t.equal(silent.find(node => node.deviceId === other.deviceId)?.resting, false, 'no window: gone')
  const fleet = await getJson(`${monitor.url}/api/fleet`)
  t.same(
    fleet.nodes.map((node: { deviceId: string; resting: boolean }) => [node.deviceId, node.resting]),
    [
      [box.deviceId, true],
      [other.deviceId, false]
    ],
    'the dashboard lists it resting, before the gone node'
  )
  t.match(await (await fetch(`${monitor.url}/metrics`)).text(), /seedone_monitor_nodes\{state="resting"\} 1/)

  const tooLong = reportAt(box, 2, { apiUrl: boxUrl, rest: [window('quiet-hours', 0, 13 * hour)] })
  const refused = await send(monitor, await signPayload(box, tooLong))
  t.equal(refused.status, 400, 'quiet hours of 13 h')
  t.match(refused.json.message, /rest\/0 must end after it starts and last at most 12 h \(quiet-hours\)/)
  const ended = reportAt(box, 3, { apiUrl: boxUrl, rest: [window('downtime', -2 * hour, -hour)] })
  t.equal((await send(monitor, await signPayload(box, ended))).status, 201)
  const gone = await waitFor('the box to fall silent again', async () => {
    const [node] = (await registry(monitor)).filter(n => n.deviceId === box.deviceId && !n.live)
    return node
  })
  t.equal(gone.resting, false, 'past its window and the timeout: gone')
})

t.test('resting needs the silence to begin with the window, and ends a timeout after it', async t => {
  const at = (minute: number): string => new Date(Date.UTC(2030, 0, 1, 22, minute)).toISOString()
  const timeoutMs = 15 * 60_000
  const report = reportAt(box, 1, { apiUrl: boxUrl, rest: [{ reason: 'quiet-hours', start: at(60), end: at(60 * 9) }] })
  const resting = (lastReport: number, now: number): boolean => isResting(report, at(lastReport), timeoutMs, Date.parse(at(now)))
  t.ok(resting(55, 120), 'silent from 5 min before the window: resting inside it')
  t.ok(resting(55, 60 * 9 + 15), 'until the window’s end plus the timeout')
  t.notOk(resting(55, 60 * 9 + 16), 'gone after')
  t.notOk(resting(0, 120), 'silent from an hour before the window: it failed, gone')
  t.notOk(isResting(reportAt(box, 1, { apiUrl: boxUrl }), at(55), timeoutMs, Date.parse(at(120))), 'no window: gone')
})
