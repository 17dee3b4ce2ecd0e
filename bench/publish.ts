// Publish throughput: sealing a film and adding it to Helia (blockstore on disk), as publish does,
// against `sha256sum` of the same file, the disk-and-hash limit any publish pays once.
//
//   npx node bench/publish.ts [--size-mib 1024] [--rounds 3] [--clip-seconds 60]
//
// The file is read once before timing and stays in the page cache (dropping the cache would need the
// whole machine's cooperation), so every figure is warm: the disk's read speed is not measured, only
// hashing, sealing and the blockstore's writes. Each round alternates which kind runs first and adds
// into a fresh Helia node. --clip-seconds 0 skips the full-pipeline row (a generated H.264 clip
// through publishFilm on a custodian daemon and a devnet).
import { execFile } from 'node:child_process'
import { createReadStream } from 'node:fs'
import { mkdtemp, rm, stat } from 'node:fs/promises'
import os from 'node:os'
import path from 'node:path'
import { pipeline } from 'node:stream/promises'
import { Writable, type Readable } from 'node:stream'
import { parseArgs, promisify } from 'node:util'
import { Wallet } from 'ethers'
import { generateKeyPair } from '@libp2p/crypto/keys'
import { startBenchChain } from './custodian.ts'
import { devnetAccounts } from '../server/devnet/accounts.ts'
import { generateDemoClip } from '../server/publish/demo-clip.ts'
import { daemonPublishContext, publishFilm } from '../server/publish/publish-film.ts'
import { withPlaintextWorkDir } from '../server/publish/work-dir.ts'
import { createSealer, generateContentKey } from '../server/sealing/seal.ts'
import { addFile } from '../server/storage/content.ts'
import { createStorageNode } from '../server/storage/helia-node.ts'
import { median, report, type Row } from './report.ts'

const MiB = 1024 * 1024
const run = promisify(execFile)

const { values } = parseArgs({
  options: {
    'size-mib': { type: 'string', default: '1024' },
    rounds: { type: 'string', default: '3' },
    'clip-seconds': { type: 'string', default: '60' }
  }
})
const size = Number(values['size-mib']) * MiB
const rounds = Number(values.rounds)
const clipSeconds = Number(values['clip-seconds'])
if (!Number.isInteger(size / MiB) || size <= 0)
  throw new RangeError(`--size-mib must be a positive whole number, got ${values['size-mib']}`)
if (!Number.isInteger(rounds) || rounds < 1) throw new RangeError(`--rounds must be a positive integer, got ${values.rounds}`)
if (!(clipSeconds >= 0)) throw new RangeError(`--clip-seconds must be 0 or more, got ${values['clip-seconds']}`)

/** Seconds `work` takes, once the writes of earlier runs are flushed (so they do not slow this one down). */
async function timed(work: () => Promise<unknown>): Promise<number> {
  await run('sync')
  const started = performance.now()
  await work()
  return (performance.now() - started) / 1000
}

/** The file as publish reads it: 1 MiB reads. */
const readFilm = (file: string): Readable => createReadStream(file, { highWaterMark: MiB })
const sealed = (file: string): Readable =>
  readFilm(file).pipe(createSealer(generateContentKey(), { plaintextLength: size, cipher: 'aes-256-gcm' }))

/** Adds `source` into a fresh Helia node with its blockstore under `dir`; the node's start and stop are not timed. */
async function addIntoFreshNode(dir: string, source: () => Readable): Promise<number> {
  const node = await createStorageNode({ dataDir: dir, privateKey: await generateKeyPair('Ed25519'), listen: [], bootstrap: [] })
  try {
    return await timed(() => addFile(node, source()))
  } finally {
    await node.close()
    await rm(dir, { recursive: true, force: true })
  }
}

/** publishFilm of a generated clip on a custodian daemon: the whole pipeline, each step's share of the time. */
async function timePublishFilm(dir: string): Promise<{ row: Row; note: string }> {
  const { provider, custodian, close } = await startBenchChain(dir)
  try {
    const creator = new Wallet(devnetAccounts.creator.privateKey, provider)
    return await withPlaintextWorkDir(async work => {
      const clip = await generateDemoClip(work, { seconds: clipSeconds })
      const clipBytes = (await stat(clip.video)).size
      const steps = new Map<string, { first: number; last: number }>()
      const started = performance.now()
      let previous = started
      await publishFilm(
        daemonPublishContext(custodian, creator, step => {
          // a step runs from the previous report to its own last report
          const now = performance.now()
          const times = steps.get(step) ?? { first: previous, last: now }
          times.last = now
          steps.set(step, times)
          previous = now
        }),
        { input: clip.video, title: 'Benchmark clip', subtitles: [{ file: clip.subtitles, language: 'en', label: 'English' }] }
      )
      const seconds = (performance.now() - started) / 1000
      const seal = steps.get('seal')
      const sealSeconds = seal === undefined ? NaN : (seal.last - seal.first) / 1000
      const shares = [...steps].map(([step, { first, last }]) => `${step} ${((last - first) / 1000).toFixed(2)} s`).join(', ')
      return {
        row: {
          MiB: +(clipBytes / MiB).toFixed(1),
          seconds: +seconds.toFixed(2),
          'MiB/s': +(clipBytes / MiB / seconds).toFixed(1),
          'seal + add MiB/s': +(clipBytes / MiB / sealSeconds).toFixed(1)
        },
        note: `publishFilm of a ${clipSeconds} s 1280x720 H.264/AAC test-pattern clip (already faststart MP4: normalise keeps it as is), by step: ${shares}; the clip's generation is not timed.`
      }
    })
  } finally {
    await close()
  }
}

const dir = await mkdtemp(path.join(os.tmpdir(), 'seed-one-bench-publish-'))
try {
  const film = path.join(dir, 'film.bin')
  await run('dd', ['if=/dev/urandom', `of=${film}`, `bs=${MiB}`, `count=${size / MiB}`, 'status=none'])
  await pipeline(readFilm(film), new Writable({ write: (_piece, _encoding, done) => done() })) // into the page cache

  const kinds = {
    sha256sum: async () => await timed(() => run('sha256sum', [film])),
    'openssl dgst -sha256 (SHA extensions)': async () => await timed(() => run('openssl', ['dgst', '-sha256', film])),
    'seal only (AES-256-GCM, output discarded)': async () =>
      await timed(() => pipeline(sealed(film), new Writable({ write: (_piece, _encoding, done) => done() }))),
    'add only (plaintext into Helia)': async () => await addIntoFreshNode(path.join(dir, 'node'), () => readFilm(film)),
    'seal + add (as publish)': async () => await addIntoFreshNode(path.join(dir, 'node'), () => sealed(film))
  }
  const names = Object.keys(kinds) as Array<keyof typeof kinds>
  const seconds = Object.fromEntries(names.map(name => [name, [] as number[]])) as Record<keyof typeof kinds, number[]>
  for (let round = 0; round < rounds; round++) {
    for (const name of round % 2 === 0 ? names : names.toReversed()) seconds[name].push(await kinds[name]())
  }

  const hashRate = size / MiB / median(seconds.sha256sum)
  const rows: Record<string, Row> = {}
  for (const name of names) {
    const rate = size / MiB / median(seconds[name])
    rows[name] = {
      MiB: size / MiB,
      seconds: +median(seconds[name]).toFixed(2),
      'MiB/s': +rate.toFixed(1),
      'vs sha256sum': +(rate / hashRate).toFixed(2)
    }
  }
  const notes = [
    `${size / MiB} MiB of random bytes, median of ${rounds} rounds (rounds alternate the order); all warm: the file was read once first and stays in the page cache.`,
    'seal + add: createSealer (64 KiB chunks) into addFile (1 MiB raw leaves, CIDv1, balanced DAG) of a Helia node whose blockstore is on disk; writes are not synced, as in the product.',
    'sha256sum is GNU coreutils as this system builds it; openssl dgst -sha256 is the faster hash limit of the same CPU, the SHA-256 Helia hashes blocks with (Node crypto is OpenSSL).',
    `rounds, seconds: ${names.map(name => `${name.split(' (')[0]} ${seconds[name].map(s => s.toFixed(2)).join(' ')}`).join('; ')}`
  ]
  if (clipSeconds > 0) {
    const pipelineRun = await timePublishFilm(dir)
    rows[`publishFilm, ${clipSeconds} s clip`] = pipelineRun.row
    notes.push(pipelineRun.note)
  }
  await report({
    id: 'publish',
    title: 'Publish: seal + add to Helia against sha256sum of the same file',
    command: `npx node bench/publish.ts --size-mib ${size / MiB}`,
    goal: 'context (no goal set): the ratio seal + add / sha256sum',
    met: null,
    rows,
    notes
  })
} finally {
  await rm(dir, { recursive: true, force: true })
}
