// The setting of the streaming benchmarks: a real box serving a sealed film on its real route, beside
// @fastify/static serving the same plaintext, and a client process.
//
// The box is the production build (server/build/cli.js, built here as a release builds it) of this
// checkout or of another (`tree`: a baseline worktree, so that before and after run in one benchmark),
// started as its systemd unit starts it: NODE_ENV=production and the unit's NODE_OPTIONS.
//
// The devnet and a custodian daemon run in this process. The box is `seed-one start` in a process of
// its own, paired to the devnet owner wallet, which bought the film; its library pins the film and
// plays it from GET /api/films/:id/stream. The sealed film is added to the box's blockstore before the
// box starts, where a pin over bitswap would have put it (that transfer is bench 6's subject, not
// these), so its pin finds every block on disk. The plaintext (random bytes) lives in os.tmpdir()
// only for @fastify/static, and everything is deleted at the end.
import { execFileSync } from 'node:child_process'
import { randomFillSync, randomBytes } from 'node:crypto'
import { once } from 'node:events'
import { createReadStream, createWriteStream } from 'node:fs'
import { mkdtemp, open, readFile, rm } from 'node:fs/promises'
import os from 'node:os'
import path from 'node:path'
import { finished } from 'node:stream/promises'
import { parseArgs } from 'node:util'
import { JsonRpcProvider, Wallet, type Contract, type ContractTransactionReceipt } from 'ethers'
import type { CID } from 'multiformats/cid'
import { devnetFlags, startBenchCustodian } from './custodian.ts'
import type { Daemon } from '../server/daemon.ts'
import { devnetAccounts } from '../server/devnet/accounts.ts'
import { startDevnet, type Devnet } from '../server/devnet/devnet.ts'
import { filmIdFromReceipt } from '../server/chain/film-token.ts'
import { loadOrCreateDeviceIdentity } from '../server/identity/device-identity.ts'
import type { FilmMetadata } from '../server/library/film-metadata.ts'
import { DEFAULT_CHUNK_SIZE, DEFAULT_CIPHER, sealedLength, type CipherName } from '../server/sealing/format.ts'
import { createSealer, generateContentKey } from '../server/sealing/seal.ts'
import { createShutdown } from '../server/lib/shutdown.ts'
import { addBytes, addFile } from '../server/storage/content.ts'
import { createStorageNode } from '../server/storage/helia-node.ts'
import { publishedFilms } from '../server/keys/published-films.ts'
import { CHECKOUT_ROOT } from '../server/lib/checkout-root.ts'
import { buildServer } from '../server/update/build-server.ts'
import { RELEASE_CLI } from '../server/update/server-build.ts'
import { startDaemonProcess } from '../test/helpers/daemon-process.ts'
import { libraryFilm } from '../test/helpers/http.ts'
import { signedInCookie } from '../test/helpers/owner-session.ts'
import { forkStreamClient, type Job, type JobResult, type RangeGet, type StreamClient } from './stream-client.ts'
import { startStaticServer } from './stream-static-server.ts'

export const MiB = 1024 * 1024
export const KINDS = ['static', 'decrypted'] as const
export type Kind = (typeof KINDS)[number]

export interface StreamWorld {
  /** Plaintext bytes of the film. */
  size: number
  /** Where each kind serves the film. */
  urls: Record<Kind, string>
  /** What a client sends each kind: the box serves the film to the owner's signed-in screen only. */
  headers: Record<Kind, Record<string, string>>
  /** The process serving each kind: the static server, and the box. */
  pids: Record<Kind, number>
  client: StreamClient
  /** The film's cipher. */
  cipher: CipherName
  /** Setup figures, for a benchmark's notes. */
  notes: string[]
  close(): Promise<void>
}

export interface WorldOptions {
  sizeMiB: number
  /** The checkout whose production build and unit the box runs (default this one). */
  tree?: string
  /** Runs once the box process is up, before it is paired (the memory benchmark's fresh idle box). */
  boxStarted?: (pid: number) => Promise<void>
  /** The film's cipher (default the one publish seals new films with). */
  cipher?: CipherName
}

/**
 * --size-mib (default 1024: the 1 GiB film) and --baseline (a checkout, e.g. a worktree of main,
 * measured in the same run before this one), plus a benchmark's own options (`--name value`, with defaults).
 */
export function parseBenchArgs<Name extends string>(
  defaults: Record<Name, string>
): Record<Name, string> & { sizeMiB: number; baseline: string; trees: BoxTree[] } {
  const options = Object.fromEntries(
    Object.entries({ 'size-mib': '1024', baseline: '', ...defaults }).map(([name, value]) => [
      name,
      { type: 'string' as const, default: value as string }
    ])
  )
  const { values } = parseArgs({ options })
  const sizeMiB = Number(values['size-mib'])
  if (!Number.isInteger(sizeMiB) || sizeMiB < 16) throw new RangeError(`--size-mib must be a whole number ≥ 16, got ${values['size-mib']}`)
  const baseline = values.baseline as string
  const trees =
    baseline === '' ? [boxTree('', CHECKOUT_ROOT)] : [boxTree('before: ', path.resolve(baseline)), boxTree('after: ', CHECKOUT_ROOT)]
  return { ...(values as Record<Name, string>), sizeMiB, baseline, trees }
}

/** A checkout a box is built from, and how rows name it. */
export interface BoxTree {
  dir: string
  /** Prefix of the benchmark's row names: empty alone, `before: ` / `after: ` beside a baseline. */
  label: string
  /** Its commit, for the row names (`+`: with uncommitted changes beyond docs/benchmarks.md, which benchmarks write). */
  commit: string
}

function boxTree(label: string, dir: string): BoxTree {
  const git = (...args: string[]): string => execFileSync('git', ['-C', dir, ...args], { encoding: 'utf8' }).trim()
  const commit = `${git('rev-parse', '--short', 'HEAD')}${git('status', '--porcelain', '--untracked-files=no', '--', '.', ':!docs/benchmarks.md') === '' ? '' : '+'}`
  return { dir, label, commit }
}

async function writeRandomFile(file: string, size: number): Promise<void> {
  const out = createWriteStream(file)
  const piece = Buffer.allocUnsafe(MiB)
  for (let written = 0; written < size; written += MiB) {
    // a fresh copy per write: the stream may still hold the previous one
    if (!out.write(Buffer.from(randomFillSync(piece).subarray(0, Math.min(MiB, size - written))))) await once(out, 'drain')
  }
  out.end()
  await finished(out)
}

async function readSlice(file: string, start: number, length: number): Promise<Buffer> {
  const handle = await open(file)
  try {
    const { buffer, bytesRead } = await handle.read({ buffer: Buffer.alloc(length), position: start })
    return buffer.subarray(0, bytesRead)
  } finally {
    await handle.close()
  }
}

/**
 * How the box's systemd unit runs the daemon, so that the box measured is the box shipped: the Node
 * flags of its ExecStart (between the node binary and the script) and the environment that tunes the
 * runtime (NODE_OPTIONS, glibc's MALLOC_* variables), not the unit's paths.
 */
export async function unitRuntime(tree: string): Promise<{ nodeArgs: string[]; env: Record<string, string> }> {
  const unit = await readFile(path.join(tree, 'systemd/seed-one.service'), 'utf8')
  const execStart = /^ExecStart=\S+\/node (.*?)\S+\/cli\.js start$/m.exec(unit)
  if (execStart === null) throw new Error(`${tree}/systemd/seed-one.service has no ExecStart=…/node … cli.js start line`)
  const env: Record<string, string> = {}
  for (const [, quoted, bare] of unit.matchAll(/^Environment=(?:"([^"]*)"|(\S+))$/gm)) {
    const [name, ...value] = (quoted ?? bare).split('=')
    if (name === 'NODE_OPTIONS' || name.startsWith('MALLOC_')) env[name] = value.join('=')
  }
  return { nodeArgs: execStart[1].split(' ').filter(arg => arg !== ''), env }
}

async function waitUntil(what: string, check: () => Promise<boolean>, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs / 1000} s waiting for ${what}`)
    await new Promise(resolve => setTimeout(resolve, 250))
  }
}

/** Seals the plaintext into the blockstore of a box that is not running yet, with its own identity and stores. */
async function sealIntoBlockstore(
  boxDir: string,
  plainFile: string,
  film: { size: number; cipher: CipherName }
): Promise<{ contentCid: CID; contentKey: Uint8Array }> {
  const identity = await loadOrCreateDeviceIdentity(boxDir)
  const store = await createStorageNode({ dataDir: boxDir, privateKey: identity.privateKey, listen: [], bootstrap: [] })
  try {
    const contentKey = generateContentKey()
    const sealed = createReadStream(plainFile, { highWaterMark: MiB }).pipe(
      createSealer(contentKey, { plaintextLength: film.size, cipher: film.cipher })
    )
    return { contentCid: await addFile(store, sealed), contentKey }
  } finally {
    await store.close()
  }
}

/**
 * What publish does once the film is sealed and added: the key into the custodian's custody, the
 * metadata (and a poster) on its Helia, the film registered on chain; then the owner buys a token.
 */
async function publishAndBuy(
  devnet: Devnet,
  custodian: Daemon,
  owner: Wallet,
  film: { contentCid: CID; contentKey: Uint8Array; size: number; cipher: CipherName }
): Promise<string> {
  await custodian.custody!.put(film.contentCid.toString(), film.contentKey)
  const metadata: FilmMetadata = {
    schema: 'seed-one/film-metadata/v1',
    title: 'Benchmark film',
    synopsis: 'Random bytes.',
    durationSeconds: 7200,
    contentClass: 'production',
    content: {
      cid: film.contentCid.toString(),
      sealedBytes: sealedLength(film.size, DEFAULT_CHUNK_SIZE),
      plaintextBytes: film.size,
      mimeType: 'video/mp4',
      sealing: { format: 'seed-one/sealed/v1', cipher: film.cipher, chunkSize: DEFAULT_CHUNK_SIZE },
      audio: []
    },
    poster: { cid: (await addBytes(custodian.helia, randomBytes(512))).toString(), mimeType: 'image/jpeg' },
    subtitles: [],
    custodian: { url: custodian.url, peerId: custodian.identity.deviceId }
  }
  const metadataCid = await addBytes(custodian.helia, new TextEncoder().encode(JSON.stringify(metadata)))
  const provider = new JsonRpcProvider(devnet.rpcUrl, devnet.chainId, { staticNetwork: true, cacheTimeout: -1 })
  try {
    const creator = new Wallet(devnetAccounts.creator.privateKey, provider)
    const asCreator = custodian.chain.contract.connect(creator) as Contract
    const price = 10n ** 16n
    const registered = await (
      await asCreator.getFunction('registerFilm')(`ipfs://${metadataCid}`, price, 1000, [100, 5000], creator.address, 500)
    ).wait()
    const tokenId = filmIdFromReceipt(asCreator, registered as ContractTransactionReceipt).toString()
    // as publish records it: the custodian releases keys only for films it registered itself
    await publishedFilms(custodian.db).record({
      tokenId,
      title: metadata.title,
      metadataCid: metadataCid.toString(),
      contentCid: film.contentCid.toString(),
      publishedAt: new Date().toISOString(),
      creator: creator.address,
      contract: String(custodian.chain.contract.target)
    })
    const asOwner = custodian.chain.contract.connect(owner.connect(provider)) as Contract
    await (await asOwner.getFunction('buy')(tokenId, 1, { value: price })).wait()
    return tokenId
  } finally {
    provider.destroy()
  }
}

export async function startStreamWorld(opts: WorldOptions): Promise<StreamWorld> {
  const size = opts.sizeMiB * MiB
  const say = (line: string): void => console.log(`  ${line}`)
  const notes: string[] = []
  const shutdown = createShutdown()
  const dir = await mkdtemp(path.join(os.tmpdir(), 'seed-one-bench-stream-'))
  shutdown.add(() => rm(dir, { recursive: true, force: true }))
  try {
    say(`writing a ${opts.sizeMiB} MiB plaintext film…`)
    const plainFile = path.join(dir, 'film.bin')
    await writeRandomFile(plainFile, size)

    say('sealing it into the box blockstore…')
    const boxDir = path.join(dir, 'box')
    const sealStarted = performance.now()
    const cipher = opts.cipher ?? DEFAULT_CIPHER
    const { contentCid, contentKey } = await sealIntoBlockstore(boxDir, plainFile, { size, cipher })
    notes.push(`seal + add of the film: ${(opts.sizeMiB / ((performance.now() - sealStarted) / 1000)).toFixed(0)} MiB/s`)

    say('starting the devnet, a custodian and the box…')
    const devnet = await startDevnet({ port: 0 })
    shutdown.add(() => devnet.close())
    const chainFlags = devnetFlags(devnet)
    const custodian = await startBenchCustodian(devnet, dir)
    shutdown.add(() => custodian.close())
    const owner = new Wallet(devnetAccounts.owner.privateKey)
    const tokenId = await publishAndBuy(devnet, custodian, owner, { contentCid, contentKey, size, cipher })

    const tree = opts.tree ?? CHECKOUT_ROOT
    say(`building the server of ${tree}…`)
    const cli = path.join((await buildServer(tree)).outDir, path.basename(RELEASE_CLI))
    const runtime = await unitRuntime(tree)
    const settings = [...runtime.nodeArgs, ...Object.entries(runtime.env).map(([name, value]) => `${name}=${JSON.stringify(value)}`)]
    notes.push(`the box runs ${path.relative(tree, cli)} of ${tree} as its systemd/seed-one.service does: ${settings.join(' ')}`)
    const boxFlags = { ...chainFlags, 'data-dir': boxDir, port: '0', role: 'player', peer: custodian.multiaddrs()[0] as string }
    const box = await startDaemonProcess(
      Object.entries(boxFlags).flatMap(([flag, value]) => (Array.isArray(value) ? value : [value]).flatMap(v => [`--${flag}`, v])),
      { env: { NODE_ENV: 'production', ...runtime.env }, command: [process.execPath, ...runtime.nodeArgs, cli] }
    )
    shutdown.add(() => box.close())
    await opts.boxStarted?.(box.pid)
    const screen = await signedInCookie(box.url, owner)
    await waitUntil(
      'the box to pin the film',
      async () => {
        const view = await libraryFilm(box.url, tokenId, screen)
        if (view?.state === 'error') throw new Error(`the box could not take the film: ${JSON.stringify(view)}`)
        return view?.state === 'ready'
      },
      120_000
    )

    const staticServer = await startStaticServer(plainFile)
    shutdown.add(() => staticServer.close())
    const client = forkStreamClient()
    shutdown.add(() => client.close())
    const world: StreamWorld = {
      size,
      urls: { static: staticServer.url, decrypted: `${box.url}/api/films/${tokenId}/stream` },
      headers: { static: {}, decrypted: screen },
      pids: { static: staticServer.pid, decrypted: box.pid },
      client,
      cipher,
      notes,
      close: shutdown.run
    }
    await checkBytes(world, plainFile)
    return world
  } catch (err) {
    await shutdown.run()
    throw err
  }
}

/** Both servers answer a range with the plaintext's bytes: the benchmarks measure the right thing. */
async function checkBytes(world: StreamWorld, plainFile: string): Promise<void> {
  const start = Math.floor(world.size / 3) + 12_345
  const expected = await readSlice(plainFile, start, MiB)
  for (const kind of KINDS) {
    const response = await fetch(world.urls[kind], { headers: { ...world.headers[kind], range: `bytes=${start}-${start + MiB - 1}` } })
    const body = Buffer.from(await response.arrayBuffer())
    if (response.status !== 206 || !body.equals(expected))
      throw new Error(`the ${kind} server answered ${response.status} with other bytes`)
  }
}

/** `count` requests that together read the whole film once, each its own contiguous slice. */
export function slices(world: StreamWorld, kind: Kind, count: number): RangeGet[] {
  const length = Math.floor(world.size / count)
  return Array.from({ length: count }, (_, i) => ({
    url: world.urls[kind],
    headers: world.headers[kind],
    start: i * length,
    end: i === count - 1 ? world.size - 1 : (i + 1) * length - 1
  }))
}

/** Runs a job and checks every answer was a 206 with the whole range (a cut-off one: as far as it got). */
export async function runChecked(world: StreamWorld, job: Job): Promise<JobResult> {
  const result = await world.client.run(job)
  result.fetched.forEach((fetched, i) => {
    const { start, end, url } = job.requests[i] as RangeGet
    if (fetched.cut) return
    if (fetched.status !== 206 || fetched.bytes !== end - start + 1)
      throw new Error(`${url} bytes=${start}-${end} answered ${fetched.status} with ${fetched.bytes} bytes`)
  })
  return result
}

/** 40 Mb/s, a 4K remux's bitrate: what one TV reads. */
export const TV_BYTES_PER_SECOND = 40e6 / 8

/** `clients` TVs playing the film from evenly spread positions, each at TV_BYTES_PER_SECOND, for `seconds`. */
export async function pacedStreams(world: StreamWorld, kind: Kind, clients: number, seconds: number): Promise<JobResult> {
  const requests = slices(world, kind, clients).map(slice => ({ ...slice, end: world.size - 1 }))
  return await runChecked(world, { requests, concurrency: clients, bytesPerSecond: TV_BYTES_PER_SECOND, stopAfterMs: seconds * 1000 })
}
