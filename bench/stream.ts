// Throughput of the decrypted film stream against @fastify/static serving the same plaintext file.
//
//   npx node bench/stream.ts [--size-mib 256] [--rounds 5] [--leaf-kib 1024] [--cipher aes-256-gcm] [--pin-cpus]
//
// The server (Helia, decryption, Fastify) runs in this process; the downloads run in a forked child
// process, so that on a 2-core box client and server do not share an event loop. --pin-cpus also
// binds the server to CPU 0 and the client to CPU 1 (Linux taskset).
// One untimed warm-up download of each kind, then `rounds` rounds that alternate which kind goes
// first (so neither always follows the other); the figures are medians over the rounds, because
// other work on a shared box makes single runs swing by a factor of two.
import { execFileSync, fork, type ChildProcess } from 'node:child_process'
import { randomFillSync } from 'node:crypto'
import { once } from 'node:events'
import { createReadStream, createWriteStream } from 'node:fs'
import { mkdtemp, rm } from 'node:fs/promises'
import http from 'node:http'
import type { AddressInfo } from 'node:net'
import os from 'node:os'
import path from 'node:path'
import { finished } from 'node:stream/promises'
import { parseArgs } from 'node:util'
import Fastify from 'fastify'
import fastifyStatic from '@fastify/static'
import { generateKeyPair } from '@libp2p/crypto/keys'
import type { CipherName } from '../server/sealing/format.ts'
import { createSealer, generateContentKey } from '../server/sealing/seal.ts'
import { addFile } from '../server/storage/content.ts'
import { createStorageNode, stopStorageNode } from '../server/storage/helia-node.ts'
import { openSealedFilm } from '../server/streaming/sealed-film.ts'
import { sendPlaintext } from '../server/streaming/send-film.ts'

const MiB = 1024 * 1024

type Download = { bytes: number; ms: number }
const KINDS = ['static', 'decrypted'] as const
type Kind = (typeof KINDS)[number]

function median(xs: number[]): number {
  const sorted = xs.toSorted((a, b) => a - b)
  const mid = Math.floor(sorted.length / 2)
  return sorted.length % 2 === 1 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2
}

/** Binds every thread of a process to one CPU (Linux). */
function pinToCpu(pid: number, cpu: number): void {
  execFileSync('taskset', ['--all-tasks', '--cpu-list', '--pid', String(cpu), String(pid)], { stdio: 'ignore' })
}

if (process.argv.includes('--client')) {
  runClient()
} else {
  await runBench()
}

/** Child process: downloads each URL it is sent and reports bytes and wall time. */
function runClient(): void {
  process.on('message', (url: string) => {
    const started = performance.now()
    let bytes = 0
    http
      .get(url, { agent: false }, res => {
        res.on('data', (part: Buffer) => {
          bytes += part.length
        })
        res.on('end', () => process.send?.({ bytes, ms: performance.now() - started }))
        res.on('error', err => {
          throw err
        })
      })
      .on('error', err => {
        throw err
      })
  })
  process.on('disconnect', () => process.exit(0))
}

async function download(client: ChildProcess, url: string): Promise<Download> {
  return await new Promise((resolve, reject) => {
    const exited = (code: number | null): void => reject(new Error(`download client exited with ${code}`))
    client.once('exit', exited)
    client.once('message', message => {
      client.off('exit', exited)
      resolve(message as Download)
    })
    client.send(url)
  })
}

async function writeRandomFile(file: string, size: number): Promise<void> {
  const out = createWriteStream(file)
  for (let written = 0; written < size; written += MiB) {
    const piece = randomFillSync(Buffer.allocUnsafe(Math.min(MiB, size - written)))
    if (!out.write(piece)) await once(out, 'drain')
  }
  out.end()
  await finished(out)
}

async function runBench(): Promise<void> {
  const { values } = parseArgs({
    options: {
      'size-mib': { type: 'string', default: '256' },
      rounds: { type: 'string', default: '5' },
      'leaf-kib': { type: 'string', default: '1024' },
      cipher: { type: 'string', default: 'aes-256-gcm' },
      'pin-cpus': { type: 'boolean', default: false }
    }
  })
  const size = Number(values['size-mib']) * MiB
  const rounds = Number(values.rounds)
  if (!Number.isInteger(rounds) || rounds < 1) throw new RangeError(`--rounds must be a positive integer, got ${values.rounds}`)
  if (values['pin-cpus'] && os.availableParallelism() < 2) throw new RangeError('--pin-cpus needs at least 2 CPUs')
  const leafSize = Number(values['leaf-kib']) * 1024
  const cipher = values.cipher as CipherName
  const dir = await mkdtemp(path.join(os.tmpdir(), 'seed-one-bench-'))
  const client = fork(import.meta.filename, ['--client'], { execPath: process.execPath, stdio: 'inherit' })
  let node: Awaited<ReturnType<typeof createStorageNode>> | undefined
  const app = Fastify()
  try {
    if (values['pin-cpus']) {
      pinToCpu(process.pid, 0)
      pinToCpu(client.pid!, 1)
    }
    const plainFile = path.join(dir, 'film.bin')
    await writeRandomFile(plainFile, size)

    node = await createStorageNode({
      dataDir: path.join(dir, 'data'),
      privateKey: await generateKeyPair('Ed25519'),
      listen: [],
      bootstrap: []
    })
    const key = generateContentKey()
    const addStarted = performance.now()
    const sealed = createReadStream(plainFile).pipe(createSealer(key, { plaintextLength: size, cipher }))
    const cid = await addFile(node, sealed, undefined, leafSize)
    const addSeconds = (performance.now() - addStarted) / 1000
    const film = await openSealedFilm(node, cid, key)

    await app.register(fastifyStatic, { root: dir, serve: false })
    app.get('/decrypted', (request, reply) => sendPlaintext(request, reply, film, 'video/mp4'))
    app.get('/static', (_request, reply) => reply.sendFile('film.bin'))
    await app.listen({ host: '127.0.0.1', port: 0 })
    const base = `http://127.0.0.1:${(app.server.address() as AddressInfo).port}`

    const fetch = async (kind: Kind): Promise<number> => {
      const result = await download(client, `${base}/${kind}`)
      if (result.bytes !== size) throw new Error(`${kind} download returned ${result.bytes} of ${size} bytes`)
      return result.bytes / MiB / (result.ms / 1000)
    }
    for (const kind of KINDS) await fetch(kind) // warm-up: JIT, page cache, socket buffers
    const rates: Record<Kind, number[]> = { static: [], decrypted: [] }
    for (let round = 0; round < rounds; round++) {
      for (const kind of round % 2 === 0 ? KINDS : KINDS.toReversed()) rates[kind].push(await fetch(kind))
    }

    const ratios = rates.decrypted.map((d, round) => d / rates.static[round])
    const row = (pick: (xs: number[]) => number) => {
      const [s, d] = [pick(rates.static), pick(rates.decrypted)]
      return { 'static MiB/s': +s.toFixed(1), 'decrypted MiB/s': +d.toFixed(1), 'decrypted/static': +(d / s).toFixed(2) }
    }
    const cpus = os.cpus()
    console.log(
      `${cpus[0]?.model ?? 'unknown CPU'}, ${cpus.length} cores, Node ${process.version}, load average ${os
        .loadavg()
        .map(l => l.toFixed(2))
        .join(' ')}` + (values['pin-cpus'] ? '; server on CPU 0, client on CPU 1' : '')
    )
    console.log(
      `${size} bytes, ${rounds} rounds; seal + add ${(size / MiB / addSeconds).toFixed(1)} MiB/s (${cipher}, ${leafSize / 1024} KiB leaves)`
    )
    console.table({ median: row(median), best: row(xs => Math.max(...xs)) })
    console.log(
      `rounds, static: ${rates.static.map(r => r.toFixed(0)).join(' ')}; decrypted: ${rates.decrypted.map(r => r.toFixed(0)).join(' ')}; ` +
        `median of the per-round ratios ${median(ratios).toFixed(2)}`
    )
  } finally {
    client.disconnect()
    await app.close()
    if (node != null) await stopStorageNode(node)
    await rm(dir, { recursive: true, force: true })
  }
}
