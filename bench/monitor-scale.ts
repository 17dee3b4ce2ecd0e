// The monitor at the scale of a network (issue 15), with the monitor's own code: reports one core
// verifies and keeps, the bytes of report history a day, and the registry answer every box polls.
//
//   node bench/monitor-scale.ts [--nodes 10000] [--storage-reports 1920] [--rack-reports 192]
//
// The figures are for one core: the run pins itself to CPU 0 (taskset) so the monitor's JavaScript,
// its level writes (libuv's threads) and its GC share that core; the boxes of the HTTP run are a
// process of their own on CPU 1. CPU time (user + system, all threads) is measured beside wall time:
// on a shared, loaded machine wall time is the noisy one. Reports are the default of a box: one per
// 300 s; boxes poll the registry every 30 s (server/config.ts).
//   - ingest: signed reports of 64 boxes; a storage box's held list of 50 CIDs (100 000 CIDs × k = 5
//     over 10 000 nodes) and a rack's of 2 000. In process: the schema, the signature, and takeReport
//     (schema, signature, admission, seq, synced level batch), 32 at a time; over HTTP: the same
//     reports posted to a real monitor (Fastify, rate limit per address, the checks a report starts).
//   - history: reports kept by a real node store, its level directory measured after a compaction,
//     twice, so the growth per report is the difference (the nodes' latest reports cancel out).
//   - registry: 10 000 nodes of 50 proven CIDs each in a real monitor's store; the answer's build,
//     its JSON and gzip sizes, and what a poll every 30 s by every box costs.
import { spawn, spawnSync } from 'node:child_process'
import { once } from 'node:events'
import { mkdtemp, readdir, rm, stat } from 'node:fs/promises'
import os from 'node:os'
import path from 'node:path'
import { fileURLToPath } from 'node:url'
import { parseArgs } from 'node:util'
import { gzipSync } from 'node:zlib'
import { verifyDeviceSignature } from '../server/identity/device-signature.ts'
import { startMonitor } from '../server/monitor/monitor.ts'
import { takeReport } from '../server/monitor/monitor-routes.ts'
import { createNodeStore } from '../server/monitor/node-store.ts'
import { readRegistry } from '../server/monitor/registry.ts'
import { createRegistryAnswers } from '../server/monitor/registry-answer.ts'
import { openStateDb, type StateDb } from '../server/storage/state-db.ts'
import { NODES_PATH, type HealthReport } from '../server/wire/monitor-protocol.ts'
import { parseReport } from '../server/wire/report-schema.ts'
import { streamRequest } from '../test/helpers/http.ts'
import { monitorConfig } from '../test/helpers/monitor.ts'
import type { ClientJob, ClientResult } from './monitor-scale-client.ts'
import { boxReport, filmCids, makeBoxes, sample, seedNodes, signedReports, type BenchBox } from './monitor-fleet.ts'
import { median, report, type Row } from './report.ts'

const { values: args } = parseArgs({
  options: {
    nodes: { type: 'string', default: '10000' },
    'storage-reports': { type: 'string', default: '1920' },
    'rack-reports': { type: 'string', default: '192' }
  }
})
const NODES = Number(args.nodes)
const REPORT_INTERVAL_S = 300
const POLL_INTERVAL_S = 30
const RETENTION_DAYS = 30
const DAY_S = 86_400
const CATALOGUE_CIDS = 100_000
const K = 5
const BOXES = 64
const CONCURRENCY = 32
const SIZES = { storage: 50, rack: 2000 } as const
const REPORTS = { storage: Number(args['storage-reports']), rack: Number(args['rack-reports']) }
const reportsPerSecond = NODES / REPORT_INTERVAL_S

// one core: the run pins itself to CPU 0 and starts its boxes on CPU 1 (when taskset is there)
const PINNED = 'SEED_ONE_BENCH_PINNED'
const canPin = process.env[PINNED] !== undefined || spawnSync('taskset', ['-c', '0', 'true']).status === 0
if (canPin && process.env[PINNED] === undefined) {
  const args = ['-c', '0', process.execPath, ...process.execArgv, fileURLToPath(import.meta.url), ...process.argv.slice(2)]
  const run = spawnSync('taskset', args, { stdio: 'inherit', env: { ...process.env, [PINNED]: '1' } })
  process.exit(run.status ?? 1)
}

interface Cost {
  wallMs: number
  cpuMs: number
}

async function measure<T>(step: () => Promise<T>): Promise<Cost & { value: T }> {
  const cpu = process.cpuUsage()
  const started = performance.now()
  const value = await step()
  const used = process.cpuUsage(cpu)
  return { value, wallMs: performance.now() - started, cpuMs: (used.user + used.system) / 1000 }
}

const round = (x: number, digits = 0): number => Number(x.toFixed(digits))
const mb = (bytes: number): string => `${(bytes / 1e6).toFixed(bytes < 1e7 ? 2 : 1)} MB`
const tb = (bytes: number): string => `${(bytes / 1e12).toFixed(2)} TB`

function rateRow(count: number, cost: Cost, extra: Row = {}): Row {
  return {
    reports: count,
    'wall s': round(cost.wallMs / 1000, 2),
    'CPU s': round(cost.cpuMs / 1000, 2),
    'reports/s (wall)': round((count * 1000) / cost.wallMs),
    'reports per CPU-s': round((count * 1000) / cost.cpuMs),
    'CPU µs/report': round((cost.cpuMs * 1000) / count),
    ...extra
  }
}

/** Runs `each` over `items`, `concurrency` at a time. */
async function inTurns<T>(items: T[], concurrency: number, each: (item: T) => Promise<unknown>): Promise<void> {
  let next = 0
  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      for (let i = next++; i < items.length; i = next++) await each(items[i])
    })
  )
}

async function dataDir(name: string): Promise<string> {
  return await mkdtemp(path.join(os.tmpdir(), `seed-one-monitor-scale-${name}-`))
}

/** The schema, the signature, and takeReport in a fresh store, over the same signed reports. */
async function ingestInProcess(kind: keyof typeof SIZES, rows: Record<string, Row>): Promise<void> {
  const held = SIZES[kind]
  const boxes = await makeBoxes(BOXES, () => filmCids(held))
  const signed = await signedReports(boxes, 1, Math.ceil(REPORTS[kind] / BOXES))
  const bytes = signed[0].payload.length
  const label = `${kind} report (${held} CIDs, ${(bytes / 1000).toFixed(1)} kB)`
  const schema = await measure(async () => {
    for (const s of signed) if ('error' in parseReport(s)) throw new Error('a bench report is malformed')
  })
  rows[`${label}: schema only`] = rateRow(signed.length, schema)
  const signature = await measure(async () => {
    for (const s of signed) if (!(await verifyDeviceSignature(JSON.parse(s.payload).deviceId, s))) throw new Error('bad signature')
  })
  rows[`${label}: signature only`] = rateRow(signed.length, signature)
  const dir = await dataDir(kind)
  const db = await openStateDb(dir)
  const store = createNodeStore(db)
  let accepted = 0
  const opts = { store, admits: async () => true, onReport: () => {} }
  const taken = await measure(() =>
    inTurns(signed, CONCURRENCY, async s => {
      if ((await takeReport(opts, s)).accepted) accepted++
    })
  )
  rows[`${label}: in process, all checks + synced level write`] = rateRow(signed.length, taken, { accepted })
  await db.close()
  await rm(dir, { recursive: true, force: true })
}

function clientProcess(): ReturnType<typeof spawn> {
  const client = fileURLToPath(new URL('monitor-scale-client.ts', import.meta.url))
  const stdio: ['ignore', 'inherit', 'inherit', 'ipc'] = ['ignore', 'inherit', 'inherit', 'ipc']
  return canPin ? spawn('taskset', ['-c', '1', process.execPath, client], { stdio }) : spawn(process.execPath, [client], { stdio })
}

/** The same reports posted to a real monitor by boxes in another process: this process's CPU is the monitor's. */
async function ingestOverHttp(kind: keyof typeof SIZES, rows: Record<string, Row>): Promise<void> {
  const held = SIZES[kind]
  const child = clientProcess()
  const message = async <T>(): Promise<T> => ((await once(child, 'message')) as [T])[0]
  const job: ClientJob = { boxes: BOXES, held, rounds: Math.ceil(REPORTS[kind] / BOXES), concurrency: CONCURRENCY }
  child.send(job)
  const { boxes } = await message<{ boxes: Array<Omit<BenchBox, 'sign'>> }>()
  const dir = await dataDir(`${kind}-http`)
  await seedNodes(dir, boxes)
  const monitor = await startMonitor(monitorConfig(dir), { logLevel: 'silent' })
  try {
    const cpu = process.cpuUsage()
    child.send({ url: monitor.url })
    const result = await message<ClientResult>()
    const used = process.cpuUsage(cpu)
    const count = job.boxes * job.rounds
    rows[`${kind} report (${held} CIDs): over HTTP, real monitor`] = rateRow(
      count,
      { wallMs: result.wallMs, cpuMs: (used.user + used.system) / 1000 },
      { accepted: result.statuses[201] ?? 0 }
    )
    if ((result.statuses[201] ?? 0) !== count) console.warn('answers other than 201:', result.statuses)
  } finally {
    await monitor.close()
    await rm(dir, { recursive: true, force: true })
  }
}

async function directoryBytes(dir: string): Promise<number> {
  let total = 0
  for (const entry of await readdir(dir, { withFileTypes: true, recursive: true }))
    if (entry.isFile()) total += (await stat(path.join(entry.parentPath, entry.name))).size
  return total
}

/** level's compaction of everything: what stays on disk once overwritten latest reports are gone. */
async function compact(db: StateDb): Promise<void> {
  await (db as unknown as { compactRange(start: string, end: string): Promise<void> }).compactRange('\u0000', '\uffff')
}

/** Bytes on disk per kept report: two equal batches of reports, the store's directory measured after each. */
async function historyBytes(): Promise<{ perReport: number; jsonPerReport: number; reports: number }> {
  const boxes = await makeBoxes(500, () => filmCids(SIZES.storage))
  const dir = await dataDir('history')
  const db = await openStateDb(dir)
  const store = createNodeStore(db)
  const rounds = 6
  const keep = async (from: number): Promise<number> => {
    const reports: HealthReport[] = []
    for (let seq = from; seq < from + rounds; seq++) for (const box of boxes) reports.push(boxReport(box, seq))
    await inTurns(reports, CONCURRENCY, report => store.accept(report, new Date()))
    await compact(db)
    return await directoryBytes(dir)
  }
  const first = await keep(1)
  const second = await keep(1 + rounds)
  const [entry] = await store.history(boxes[0].deviceId, 1)
  await db.close()
  await rm(dir, { recursive: true, force: true })
  const reports = rounds * boxes.length
  return { perReport: (second - first) / reports, jsonPerReport: JSON.stringify(entry).length, reports }
}

async function ingest(): Promise<void> {
  const rows: Record<string, Row> = {}
  for (const kind of ['storage', 'rack'] as const) {
    await ingestInProcess(kind, rows)
    await ingestOverHttp(kind, rows)
  }
  const http = rows[`storage report (${SIZES.storage} CIDs): over HTTP, real monitor`]
  const perCpuSecond = Number(http['reports per CPU-s'])
  await report({
    id: 'monitor-ingest',
    title: 'Monitor: reports one core verifies and keeps',
    command: 'node bench/monitor-scale.ts',
    goal: `one core takes ${NODES} boxes' reports at one per ${REPORT_INTERVAL_S} s (${reportsPerSecond.toFixed(0)} a second) over HTTP, in under half its CPU time`,
    met: perCpuSecond >= 2 * reportsPerSecond,
    rows,
    notes: [
      `The machine is shared with other jobs and loaded (load average in the line above): wall times are noisy, CPU times (user + system of all the monitor's threads, on one pinned core${canPin ? '' : ' — taskset was missing, so not pinned'}) are the figures to use.`,
      `${BOXES} boxes, ${CONCURRENCY} reports at a time; every keep is one synced level batch (DESIGN decision 2), so reports/s (wall) also waits on the disk's fsync.`,
      `Over HTTP, one core takes ${perCpuSecond} storage reports per CPU-second: ${(reportsPerSecond / perCpuSecond).toFixed(2)} of a core for ${NODES} boxes, room for ${round(perCpuSecond * REPORT_INTERVAL_S)} boxes on one core at ${REPORT_INTERVAL_S} s.`
    ]
  })
}

async function history(): Promise<void> {
  const { perReport, jsonPerReport, reports } = await historyBytes()
  const perDay = perReport * NODES * (DAY_S / REPORT_INTERVAL_S)
  const kept = perDay * RETENTION_DAYS
  await report({
    id: 'monitor-history',
    title: 'Monitor: bytes of report history',
    command: 'node bench/monitor-scale.ts',
    goal: `${RETENTION_DAYS} days of history (the default retention) of ${NODES} boxes fit one 1 TB SSD`,
    met: kept < 1e12,
    rows: {
      'level, after compaction': {
        'reports measured': reports,
        'bytes/report on disk': round(perReport),
        'JSON bytes/report': jsonPerReport,
        'reports/day': NODES * (DAY_S / REPORT_INTERVAL_S),
        'per day': mb(perDay),
        [`${RETENTION_DAYS} days`]: `${(kept / 1e9).toFixed(1)} GB`
      }
    },
    notes: [
      `A storage box's report (${SIZES.storage} CIDs held): history keeps its held list as a count (node-store.ts), the node's latest report keeps the list.`,
      'On disk: the history entry and its time index, snappy-compressed by level; growth between two equal batches of reports after a full compaction.'
    ]
  })
}

/** What one GET of the registry sends, with `headers`: its status, bytes and wall time. */
async function poll(url: string, headers: Record<string, string> = {}): Promise<{ status: number; bytes: number; ms: number }> {
  const started = performance.now()
  const answer = await streamRequest(url, headers)
  return { status: answer.status, bytes: answer.body.byteLength, ms: performance.now() - started }
}

interface RegistryFigures {
  rows: Record<string, Row>
  json: number
  gzipped: number
  /** CPU of one answer (read, JSON, ETag) and of its gzip. */
  answerCpuMs: number
  gzipCpuMs: number
  answerWallMs: number
  membership: { json: number; gzipped: number }
}

const costRow = (cost: Cost, bytes?: number): Row => ({
  'wall ms': round(cost.wallMs),
  'CPU ms': round(cost.cpuMs),
  ...(bytes !== undefined ? { bytes: mb(bytes) } : {})
})

/** The registry as the monitor answers it (registry-answer.ts over readRegistry), in process and over HTTP. */
async function registryFigures(dir: string): Promise<RegistryFigures> {
  const monitor = await startMonitor(monitorConfig(dir), { logLevel: 'silent' })
  try {
    const reads = []
    for (let i = 0; i < 3; i++) reads.push(await measure(() => readRegistry(monitor.store, 60_000, async () => true)))
    const read = { wallMs: median(reads.map(r => r.wallMs)), cpuMs: median(reads.map(r => r.cpuMs)) }
    const answer = await measure(createRegistryAnswers(() => readRegistry(monitor.store, 60_000, async () => true)))
    const gzip = await measure(() => answer.value.gzipped())
    // what is left without the per-CID lists and the field every report changes: the membership
    const members = JSON.stringify({ nodes: reads[0].value.map(({ held: _held, lastReportAt: _at, ...node }) => node) })
    const membership = { json: members.length, gzipped: gzipSync(members, { level: 1 }).byteLength }
    const url = `${monitor.url}${NODES_PATH}`
    const plain = await poll(url)
    const gzipped = await poll(url, { 'accept-encoding': 'gzip' })
    const etag = (await streamRequest(url, { 'accept-encoding': 'gzip' })).headers.etag as string
    const unchanged = await poll(url, { 'if-none-match': etag })
    const rows: Record<string, Row> = {
      'read (readRegistry, median of 3)': costRow(read),
      'answer (read, JSON, ETag)': costRow(answer, answer.value.json.length),
      'gzip, level 1 (once per registry text)': costRow(gzip, gzip.value.byteLength),
      'membership only (no held, no lastReportAt), gzip': { bytes: mb(membership.gzipped), 'JSON bytes': mb(membership.json) },
      'GET, no Accept-Encoding (every answer before)': { 'wall ms': round(plain.ms), bytes: mb(plain.bytes) },
      'GET, gzip': { 'wall ms': round(gzipped.ms), bytes: mb(gzipped.bytes) },
      'GET, If-None-Match (304)': { 'wall ms': round(unchanged.ms), bytes: unchanged.bytes, status: unchanged.status }
    }
    return {
      rows,
      json: answer.value.json.length,
      gzipped: gzip.value.byteLength,
      answerCpuMs: answer.cpuMs,
      gzipCpuMs: gzip.cpuMs,
      answerWallMs: answer.wallMs,
      membership
    }
  } finally {
    await monitor.close()
  }
}

const gbits = (bytesPerSecond: number): number => round((bytesPerSecond * 8) / 1e9, 2)

async function registry(): Promise<void> {
  const held = Math.round((CATALOGUE_CIDS * K) / NODES)
  const pool = filmCids(CATALOGUE_CIDS)
  const boxes = await makeBoxes(NODES, () => sample(pool, held))
  const dir = await dataDir('registry')
  await seedNodes(dir, boxes)
  const figures = await registryFigures(dir)
  await rm(dir, { recursive: true, force: true })
  const { rows, json, gzipped, answerCpuMs, gzipCpuMs, membership } = figures
  const polls = NODES / POLL_INTERVAL_S
  const perDay = (bytes: number): Row => ({ 'a day': tb(bytes * polls * DAY_S), 'Gbit/s': gbits(bytes * polls) })
  rows[`${round(polls)} polls/s: JSON (before)`] = perDay(json)
  rows[`${round(polls)} polls/s: gzip`] = perDay(gzipped)
  rows[`${round(polls)} polls/s: membership only, gzip`] = perDay(membership.gzipped)
  rows[`${round(polls)} polls/s: a build per poll (before)`] = { cores: round((answerCpuMs * polls) / 1000, 1) }
  // one build at a time, back to back, each text gzipped once
  const sharedCores = Math.min((answerCpuMs * polls) / 1000, 1) * (1 + gzipCpuMs / answerCpuMs)
  rows[`${round(polls)} polls/s: one build at a time, shared`] = { cores: round(sharedCores, 1) }
  await report({
    id: 'monitor-registry',
    title: `Monitor: the registry answer at ${NODES} nodes`,
    command: 'node bench/monitor-scale.ts',
    goal: `every box's poll of the registry (every ${POLL_INTERVAL_S} s) fits one monitor: under 1 Gbit/s and 2 cores`,
    met: gbits(gzipped * polls) < 1 && sharedCores < 2,
    rows,
    notes: [
      `${NODES} nodes, each listing ${held} proven CIDs of a catalogue of ${CATALOGUE_CIDS} (k = ${K}) and three multiaddrs; every box polls every ${POLL_INTERVAL_S} s.`,
      `A 304 saves the bytes, not the build: the monitor reads and hashes the registry to know it is unchanged. At ${NODES} nodes reporting every ${REPORT_INTERVAL_S} s, ${round(reportsPerSecond)} reports a second change lastReportAt, so two polls ${POLL_INTERVAL_S} s apart see the same registry with probability e^-${(NODES * POLL_INTERVAL_S) / REPORT_INTERVAL_S}: the ETag pays in networks of a few nodes and behind a cache; gzip pays at every size.`,
      `Polls now share builds (registry-answer.ts): at most one runs at a time, so the CPU is bounded (a poll waits up to two builds, ${round((2 * figures.answerWallMs) / 1000, 1)} s here); the bytes are not. docs/SCALING.md has the steps past this.`,
      'The machine is shared and loaded: wall times are noisy; the GETs are made from this process (the monitor and its client share the pinned core).'
    ]
  })
}

await ingest()
await history()
await registry()
