// Box-to-box replication of a sealed film on loopback, against a plain HTTP download of the same bytes.
//
//   npx node bench/replication.ts [--size-mib 256] [--rounds 3]
//
// A forked source process is a box holding the film: a storage node (Helia, bitswap behind the
// peer-serving gate) and Fastify with the box's block route (quiet hours, upload cap, playback
// priority), plus @fastify/static serving the sealed file. This process is the replica: each run
// starts a fresh storage node (new data directory and peer id), dials the source and pins the film
// with pinWithProgress, as the replicator and the library do:
//   - before: no HTTP holder known, so every block comes over bitswap (what replication did until now);
//   - after: the source listed as a holder, so blocks come over its block route (storage/block-fetcher.ts),
//     each checked against its CID before it is stored;
//   - plain HTTP: one GET of the sealed file, written to a file of the replica's data directory.
// Rounds alternate the order of the three; figures are medians over the rounds.
import type { ChildProcess } from 'node:child_process'
import { startSourceProcess, withSourceNode } from './source-process.ts'
import { randomFillSync } from 'node:crypto'
import { once } from 'node:events'
import http from 'node:http'
import { createReadStream, createWriteStream } from 'node:fs'
import { mkdtemp, rm, stat } from 'node:fs/promises'
import type { AddressInfo } from 'node:net'
import os from 'node:os'
import path from 'node:path'
import { Readable } from 'node:stream'
import { pipeline } from 'node:stream/promises'
import { parseArgs } from 'node:util'
import fastifyStatic from '@fastify/static'
import { generateKeyPair } from '@libp2p/crypto/keys'
import { CID } from 'multiformats/cid'
import { replicationRoutes } from '../server/replication/routes.ts'
import { createSealer, generateContentKey } from '../server/sealing/seal.ts'
import { HTTP_FETCH_CONCURRENCY } from '../server/storage/block-fetcher.ts'
import { addFile, PIN_FETCH_CONCURRENCY, pinWithProgress } from '../server/storage/content.ts'
import { createStorageNode, type StorageNode } from '../server/storage/helia-node.ts'
import { median, report } from './report.ts'

const MiB = 1024 * 1024
const FILM_FILE = 'film.sealed'
const STALL_MS = 10_000
const MAX_STALLS = 5
const KINDS = ['bitswap', 'block route', 'plain HTTP'] as const
type Kind = (typeof KINDS)[number]

/** One transfer: its wall time, and the CPU time the receiving process spent on it. */
interface Run {
  seconds: number
  cpu: number
}

interface Source {
  apiUrl: string
  multiaddrs: string[]
  cid: string
  sealedBytes: number
}

if (process.argv.includes('--source')) await runSource(Number(process.argv[process.argv.indexOf('--source') + 1]))
else await runBench()

/** The box holding the film: seals random bytes into a file, adds it, serves it; tells the parent where. */
async function runSource(size: number): Promise<void> {
  await withSourceNode('seed-one-bench-source-', async ({ dir, helia, serving, app }) => {
    const film = path.join(dir, FILM_FILE)
    const random = Readable.from(
      (function* () {
        for (let made = 0; made < size; made += MiB) yield randomFillSync(Buffer.allocUnsafe(Math.min(MiB, size - made)))
      })()
    )
    await pipeline(random, createSealer(generateContentKey(), { plaintextLength: size }), createWriteStream(film))
    const cid = await addFile(helia, createReadStream(film))
    await pinWithProgress(helia, cid)
    await app.register(replicationRoutes, { helia, serving })
    await app.register(fastifyStatic, { root: dir, serve: false })
    app.get(`/${FILM_FILE}`, (_request, reply) => reply.sendFile(FILM_FILE))
    await app.listen({ host: '127.0.0.1', port: 0 })
    const source: Source = {
      apiUrl: `http://127.0.0.1:${(app.server.address() as AddressInfo).port}`,
      multiaddrs: helia.libp2p.getMultiaddrs().map(String),
      cid: cid.toString(),
      sealedBytes: (await stat(film)).size
    }
    process.send?.(source)
    // asked before and after each run: the CPU time the source spent serving it
    process.on('message', () => process.send?.(cpuSeconds()))
    await once(process, 'disconnect')
  })
}

/** CPU time this process has used, user and system. */
function cpuSeconds(): number {
  const { user, system } = process.cpuUsage()
  return (user + system) / 1e6
}

async function sourceCpuSeconds(child: ChildProcess): Promise<number> {
  const [seconds] = (await Promise.all([once(child, 'message'), child.send('cpu')]))[0] as [number]
  return seconds
}

/** One replication into a fresh storage node: the seconds the pin took, and the bytes each path carried. */
async function replicate(dir: string, source: Source, overHttp: boolean): Promise<Run & { http: number; bitswap: number; stalls: number }> {
  const dataDir = await mkdtemp(path.join(dir, 'replica-'))
  const helia = await createStorageNode({
    dataDir,
    privateKey: await generateKeyPair('Ed25519'),
    listen: ['/ip4/127.0.0.1/tcp/0'],
    bootstrap: source.multiaddrs,
    blockHolders: overHttp ? async () => [source.apiUrl] : undefined
  })
  try {
    const [started, cpuBefore] = [performance.now(), cpuSeconds()]
    const stalls = await pinThroughStalls(helia, CID.parse(source.cid))
    const [seconds, cpu] = [(performance.now() - started) / 1000, cpuSeconds() - cpuBefore]
    const figures = helia.fetcher.figures()
    return { seconds, cpu, http: figures.httpBytes, bitswap: figures.bitswapBytes, stalls }
  } finally {
    await helia.close()
    await rm(dataDir, { recursive: true, force: true })
  }
}

/**
 * Pins, starting again at once when no block arrives for STALL_MS (what the replicator does on its
 * next pass after its pinStallMs): bitswap sometimes loses a want and would wait for ever. The
 * stalls' time counts; how many there were is reported.
 */
async function pinThroughStalls(helia: StorageNode, cid: CID): Promise<number> {
  for (let stalls = 0; stalls <= MAX_STALLS; stalls++) {
    const stall = new AbortController()
    const timer = setTimeout(() => stall.abort(), STALL_MS)
    try {
      await pinWithProgress(helia, cid, { signal: stall.signal, onProgress: () => timer.refresh() })
      return stalls
    } catch (err) {
      if (!stall.signal.aborted) throw err
    } finally {
      clearTimeout(timer)
    }
  }
  throw new Error(`the pin stalled ${MAX_STALLS + 1} times`)
}

/** One GET of the sealed file, written to disk like a replica's blocks are. */
async function download(dir: string, source: Source): Promise<Run> {
  const file = path.join(dir, 'download.sealed')
  const [started, cpuBefore] = [performance.now(), cpuSeconds()]
  const response = await new Promise<http.IncomingMessage>((resolve, reject) => {
    http.get(`${source.apiUrl}/${FILM_FILE}`, resolve).on('error', reject)
  })
  if (response.statusCode !== 200) throw new Error(`plain download answered ${response.statusCode}`)
  await pipeline(response, createWriteStream(file))
  const [seconds, cpu] = [(performance.now() - started) / 1000, cpuSeconds() - cpuBefore]
  await rm(file)
  return { seconds, cpu }
}

async function runBench(): Promise<void> {
  const { values } = parseArgs({ options: { 'size-mib': { type: 'string', default: '256' }, rounds: { type: 'string', default: '3' } } })
  const size = Number(values['size-mib']) * MiB
  const rounds = Number(values.rounds)
  if (!Number.isInteger(rounds) || rounds < 1) throw new RangeError(`--rounds must be a positive integer, got ${values.rounds}`)
  const dir = await mkdtemp(path.join(os.tmpdir(), 'seed-one-bench-replica-'))
  const { child, source } = await startSourceProcess<Source>(import.meta.filename, size)
  const mib = source.sealedBytes / MiB
  const rates: Record<Kind, number[]> = { bitswap: [], 'block route': [], 'plain HTTP': [] }
  const carried: Record<Kind, string> = { bitswap: '', 'block route': '', 'plain HTTP': 'HTTP' }
  const stalls: Record<Kind, number> = { bitswap: 0, 'block route': 0, 'plain HTTP': 0 }
  const cpuPerGiB: Record<Kind, number[]> = { bitswap: [], 'block route': [], 'plain HTTP': [] }
  try {
    for (let round = 0; round < rounds; round++) {
      const order = round % 2 === 0 ? KINDS : KINDS.toReversed()
      for (const kind of order) {
        const sourceBefore = await sourceCpuSeconds(child)
        let run: Run
        if (kind === 'plain HTTP') {
          run = await download(dir, source)
        } else {
          const replication = await replicate(dir, source, kind === 'block route')
          stalls[kind] += replication.stalls
          carried[kind] = `HTTP ${(replication.http / MiB).toFixed(0)} MiB, bitswap ${(replication.bitswap / MiB).toFixed(0)} MiB`
          run = replication
        }
        const cpu = run.cpu + (await sourceCpuSeconds(child)) - sourceBefore
        rates[kind].push(mib / run.seconds)
        cpuPerGiB[kind].push(cpu / (mib / 1024))
        console.log(
          `round ${round + 1}, ${kind}: ${(mib / run.seconds).toFixed(1)} MiB/s, ${cpu.toFixed(1)} CPU s (${carried[kind]}, ${stalls[kind]} stalls so far)`
        )
      }
    }
  } finally {
    child.disconnect()
    await once(child, 'exit')
    await rm(dir, { recursive: true, force: true })
  }
  const plain = median(rates['plain HTTP'])
  const row = (kind: Kind, label: string) => ({
    [label]: {
      'MiB/s (median)': +median(rates[kind]).toFixed(1),
      'MiB/s (rounds)': rates[kind].map(r => r.toFixed(0)).join(' '),
      'ratio to plain HTTP': +(median(rates[kind]) / plain).toFixed(2),
      'CPU s per GiB (both ends)': +median(cpuPerGiB[kind]).toFixed(1),
      'bytes carried by': carried[kind],
      'stalls restarted': stalls[kind]
    }
  })
  const after = median(rates['block route']) / plain
  await report({
    id: 'replication',
    title: `Replication of a ${Math.round(mib)} MiB sealed film between two boxes on loopback`,
    command: `npx node bench/replication.ts --size-mib ${values['size-mib']} --rounds ${rounds}`,
    goal: 'box-to-box replication ≥ 0.5 × plain HTTP of the same bytes',
    met: after >= 0.5,
    rows: {
      ...row('bitswap', 'before: pin over bitswap'),
      ...row('block route', 'after: pin over the block route'),
      ...row('plain HTTP', 'plain HTTP download to a file')
    },
    notes: [
      'source and replica are separate processes; each pin starts a fresh replica node (new peer id, empty blockstore) and ends when the pin is recorded',
      `a pin that receives no block for ${STALL_MS / 1000} s is started again at once (the replicator waits its pinStallMs, 60 s by default, then retries on its next pass); the time lost counts`,
      `1 MiB leaves; the pin walks ${PIN_FETCH_CONCURRENCY} blocks ahead, the block route has ${HTTP_FETCH_CONCURRENCY} requests open at once; each block is hashed against its CID before it is stored`,
      `median of ${rounds} rounds, the order of the three alternating by round`
    ]
  })
}
