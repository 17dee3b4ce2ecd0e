// The registry answer at scale (issue 15): every box polls it every 30 s and its held lists make it
// large (bench/monitor-scale.ts), so the monitor names it with an ETag (an unchanged registry is a
// 304 with no body) and gzips it for the boxes that take gzip, which fetch does by itself.
import t from 'tap'
import { gunzipSync } from 'node:zlib'
import { loadOrCreateDeviceIdentity } from '../server/identity/device-identity.ts'
import { signPayload } from '../server/identity/device-signature.ts'
import { createRegistryAnswers } from '../server/monitor/registry-answer.ts'
import { fetchRegistry } from '../server/replication/node-set.ts'
import { NODES_PATH, REPORTS_PATH, type RegistryNode } from '../server/wire/monitor-protocol.ts'
import { postJson, streamRequest } from './helpers/http.ts'
import { testDir } from './helpers/in-process.ts'
import { filmCid, healthReport, registry, startTestMonitor } from './helpers/monitor.ts'
import { startIdentityBox } from './helpers/peers.ts'
import { waitFor } from './helpers/wait-for.ts'

t.test('an unchanged registry is a 304 to its ETag; a report that changes it gives a new one', async t => {
  const monitor = await startTestMonitor(t, testDir(t, 'monitor'))
  const box = await loadOrCreateDeviceIdentity(testDir(t, 'box'))
  const apiUrl = (await startIdentityBox(t, box)).url
  const send = async (seq: number) =>
    (await postJson(`${monitor.url}${REPORTS_PATH}`, await signPayload(box, healthReport(box, seq, { apiUrl })))).status
  t.equal(await send(1), 201)
  await waitFor('the monitor to list the box', async () => (await registry(monitor.url)).length === 1)

  const url = `${monitor.url}${NODES_PATH}`
  const first = await streamRequest(url)
  const etag = first.headers.etag as string
  t.match(etag, /^W\/"[A-Za-z0-9_-]+"$/, 'a 200 names its registry')
  const again = await streamRequest(url, { 'if-none-match': etag })
  t.equal(again.status, 304, 'the same registry is not sent again')
  t.equal(again.body.byteLength, 0)
  t.equal(again.headers.etag, etag)

  t.equal(await send(2), 201)
  const changed = await streamRequest(url, { 'if-none-match': etag })
  t.equal(changed.status, 200, 'a new report (a new lastReportAt) is a new registry')
  t.not(changed.headers.etag, etag)
  t.equal(JSON.parse(changed.body.toString()).nodes[0].lastReportAt > JSON.parse(first.body.toString()).nodes[0].lastReportAt, true)
})

t.test('a box keeps its copy of the registry on a 304, and reads the new one after a change', async t => {
  const monitor = await startTestMonitor(t, testDir(t, 'monitor'))
  const read = await fetchRegistry(monitor.url)
  t.type(read.etag, 'string', 'fetchRegistry keeps the ETag')
  t.equal(await fetchRegistry(monitor.url, undefined, read), read, 'a 304 answers with the copy the box has')
  const box = await loadOrCreateDeviceIdentity(testDir(t, 'box'))
  await monitor.store.accept(healthReport(box, 1, { apiUrl: 'http://127.0.0.1:9' }), new Date())
  // the identity check stands in for the box answering at its apiUrl (test/monitor.test.ts does it for real)
  await monitor.store.verifyApiUrl(box.deviceId, 'http://127.0.0.1:9')
  const next = await fetchRegistry(monitor.url, undefined, read)
  t.same(
    next.nodes.map(node => node.deviceId),
    [box.deviceId]
  )
  t.not(next.etag, read.etag)
})

// 8 storage nodes holding 50 proven film CIDs each, the average at 10 000 nodes, 100 000 CIDs and k = 5
const NODES = 8
const HELD = 50

t.test('the registry is gzipped for a client that takes gzip: under 70% of its JSON', async t => {
  const monitor = await startTestMonitor(t, testDir(t, 'monitor'))
  for (let i = 0; i < NODES; i++) {
    const box = await loadOrCreateDeviceIdentity(testDir(t, `box-${i}`))
    const apiUrl = `http://127.0.0.1:${1000 + i}`
    const held = Array.from({ length: HELD }, filmCid)
    await monitor.store.accept(healthReport(box, 1, { apiUrl, held }), new Date())
    await monitor.store.verifyApiUrl(box.deviceId, apiUrl)
    for (const cid of held) await monitor.store.verifyHolding(box.deviceId, cid)
  }
  const url = `${monitor.url}${NODES_PATH}`
  const plain = await streamRequest(url)
  t.equal(plain.headers['content-encoding'], undefined, 'a client that asks for no coding gets JSON')
  const nodes = JSON.parse(plain.body.toString()).nodes
  t.equal(nodes.length, NODES)
  t.equal(nodes[0].held.length, HELD)

  const gzipped = await streamRequest(url, { 'accept-encoding': 'gzip, deflate, br' })
  t.equal(gzipped.headers['content-encoding'], 'gzip')
  t.equal(gzipped.headers.vary, 'accept-encoding')
  t.equal(gunzipSync(gzipped.body).toString(), plain.body.toString(), 'the same registry')
  // before: the JSON itself (plain.body.byteLength, about 28 000 bytes) whatever the client took
  const ratio = gzipped.body.byteLength / plain.body.byteLength
  t.ok(ratio < 0.7, `gzipped is ${(ratio * 100).toFixed(0)}% of ${plain.body.byteLength} bytes of JSON`)
  const refused = await streamRequest(url, { 'accept-encoding': 'gzip;q=0, identity' })
  t.equal(refused.headers['content-encoding'], undefined, 'gzip;q=0 is a refusal of gzip')
})

t.test('polls during a build share the next build, which starts after them: one build at a time, none stale', async t => {
  // the store as readRegistry sees it: `writes` counts what was acknowledged; each read waits to be let through
  let writes = 0
  const reads: Array<() => void> = []
  const read = async (): Promise<RegistryNode[]> => {
    const seen = writes
    await new Promise<void>(resolve => reads.push(resolve))
    return [
      {
        deviceId: 'node',
        apiUrl: 'http://127.0.0.1:1',
        multiaddrs: [],
        roles: ['storage'],
        lastReportAt: String(seen),
        live: true,
        replicating: true,
        quotaBytes: 1,
        replicaBytes: 0,
        held: [],
        failed: [],
        score: 1
      }
    ]
  }
  const answers = createRegistryAnswers(read)
  const seenBy = async (answer: Promise<{ json: string }>) => JSON.parse((await answer).json).nodes[0].lastReportAt as string

  const first = seenBy(answers())
  writes++ // a report acknowledged while the first build reads
  const polls = Array.from({ length: 10 }, () => seenBy(answers()))
  t.equal(reads.length, 1, 'the ten polls wait for the build running to end')
  reads[0]()
  t.equal(await first, '0')
  await waitFor('the next build to start', async () => reads.length === 2)
  reads[1]()
  t.same(await Promise.all(polls), Array(10).fill('1'), 'each of them sees the write acknowledged before it asked')
  t.equal(reads.length, 2, 'eleven polls, two builds (before: one build per poll, eleven)')
})
