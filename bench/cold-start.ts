// Cold start: from spawning `seed-one start` to GET /api/status answering 200, and to READY=1 arriving
// on a notify socket as systemd's would receive it (Type=notify, systemd/seed-one.service).
//
//   npx node bench/cold-start.ts [--starts 5]
//
// The first start is on an empty data directory (identity made, stores created); the box is then
// paired and given a film, which it pins; then `starts` starts on that existing directory, and as many
// again alternating with them with Node's compile cache off, and as many from the production build
// (server/build/cli.js, built first as a release builds it), each stopped with SIGTERM before the next. The devnet and the custodian daemon run in this process.
// Node cannot read unix datagrams, so a small Python program is the service manager's socket: it
// stamps each message with CLOCK_MONOTONIC, the clock process.hrtime reads, so both ends compare.
import { spawn, type ChildProcess } from 'node:child_process'
import { once } from 'node:events'
import { mkdtemp, rm } from 'node:fs/promises'
import os from 'node:os'
import path from 'node:path'
import { fileURLToPath } from 'node:url'
import { parseArgs } from 'node:util'
import { Wallet } from 'ethers'
import { buildServer } from '../server/update/build-server.ts'
import { RELEASE_CLI } from '../server/update/server-build.ts'
import { startBenchChain } from './custodian.ts'
import { freePort } from '../test/helpers/daemon-process.ts'
import { devnetCliFlags } from '../test/helpers/devnet.ts'
import { buyFilm, registerFilm } from '../test/helpers/films.ts'
import { libraryFilm } from '../test/helpers/http.ts'
import { signedInCookie } from '../test/helpers/owner-session.ts'
import { startNotifySocket } from '../test/helpers/notify-socket.ts'
import { waitFor } from '../test/helpers/wait-for.ts'
import { cpuSeconds } from './proc-stats.ts'
import { median, report, type Row } from './report.ts'

const CLI = fileURLToPath(new URL('../server/cli.ts', import.meta.url))
const START_TIMEOUT_MS = 120_000
const STATUS_POLL_MS = 5

const { values } = parseArgs({ options: { starts: { type: 'string', default: '5' } } })
const starts = Number(values.starts)
if (!Number.isInteger(starts) || starts < 1) throw new RangeError(`--starts must be a positive integer, got ${values.starts}`)

type Start = { status: number; ready: number; cpu: number }

/** Seconds on CLOCK_MONOTONIC. */
const monotonic = (): number => Number(process.hrtime.bigint()) / 1e9

async function statusAnswers(url: string): Promise<boolean> {
  try {
    return (await fetch(url, { signal: AbortSignal.timeout(2000) })).status === 200
  } catch {
    return false
  }
}

const dir = await mkdtemp(path.join(os.tmpdir(), 'seed-one-bench-start-'))
const { devnet, provider, custodian, close: stopChain } = await startBenchChain(dir)
let receiver: ChildProcess | undefined
let daemon: ChildProcess | undefined
try {
  const notify = await startNotifySocket(path.join(dir, 'notify.sock'))
  receiver = notify.process
  const port = await freePort()
  const boxUrl = `http://127.0.0.1:${port}`
  const args = [
    ...['--data-dir', path.join(dir, 'box'), '--port', String(port), '--p2p-listen', '/ip4/127.0.0.1/tcp/0'],
    ...devnetCliFlags(devnet),
    ...custodian.multiaddrs().flatMap(address => ['--peer', address])
  ]

  /** Spawns the daemon as systemd would; milliseconds from the spawn to /api/status answering and to READY=1, and the CPU time it took. */
  const start = async (env: NodeJS.ProcessEnv = {}, cli = CLI): Promise<Start> => {
    const spawned = monotonic()
    daemon = spawn(process.execPath, [cli, 'start', ...args], {
      env: {
        ...process.env,
        ...env,
        NOTIFY_SOCKET: path.join(dir, 'notify.sock'),
        NODE_ENV: 'production',
        SEED_ONE_MDNS: 'off',
        SEED_ONE_LOG_LEVEL: 'warn'
      },
      stdio: ['ignore', 'ignore', 'inherit']
    })
    const exited = once(daemon, 'exit')
    const fail = exited.then(([code]) => {
      throw new Error(`seed-one start exited with ${code} before it was ready`)
    })
    fail.catch(() => {})
    const waitReady = async (): Promise<number> => {
      while (monotonic() - spawned < START_TIMEOUT_MS / 1000) {
        const ready = notify.events.find(message => message.at >= spawned && message.lines.includes('READY=1'))
        if (ready !== undefined) return ready.at
        await new Promise(resolve => setTimeout(resolve, STATUS_POLL_MS))
      }
      throw new Error(`no READY=1 within ${START_TIMEOUT_MS} ms`)
    }
    const waitStatus = async (): Promise<number> => {
      while (!(await statusAnswers(`${boxUrl}/api/status`))) {
        if (monotonic() - spawned > START_TIMEOUT_MS / 1000) throw new Error(`/api/status did not answer within ${START_TIMEOUT_MS} ms`)
        await new Promise(resolve => setTimeout(resolve, STATUS_POLL_MS))
      }
      return monotonic()
    }
    const [status, ready] = await Promise.race([Promise.all([waitStatus(), waitReady()]), fail])
    return { status: (status - spawned) * 1000, ready: (ready - spawned) * 1000, cpu: cpuSeconds(daemon.pid!) }
  }
  const stop = async (): Promise<void> => {
    const exited = once(daemon!, 'exit')
    daemon!.kill('SIGTERM')
    const [code] = await exited
    if (code !== 0) throw new Error(`seed-one start exited with ${code} on SIGTERM`)
  }

  const first = await start()
  // the existing data directory of a box in use: paired, one film pinned
  const owner = new Wallet(devnet.accounts.owner.privateKey, provider)
  const creator = new Wallet(devnet.accounts.creator.privateKey, provider)
  const screen = await signedInCookie(boxUrl, owner)
  const film = await registerFilm({ custodian, creator, contractAddress: devnet.contractAddress, bytes: 4 * 1024 * 1024 })
  await buyFilm(owner, devnet.contractAddress, film.tokenId)
  await waitFor('the film ready on the box', async () => (await libraryFilm(boxUrl, film.tokenId, screen))?.state === 'ready', {
    timeoutMs: START_TIMEOUT_MS
  })
  await stop()

  // every other start without the module compile cache (server/appliance/compile-cache.ts), to show what it saves
  const builtCli = path.join((await buildServer()).outDir, path.basename(RELEASE_CLI))
  const again: Start[] = []
  const uncached: Start[] = []
  const built: Start[] = []
  for (let i = 0; i < starts; i++) {
    again.push(await start())
    await stop()
    uncached.push(await start({ NODE_DISABLE_COMPILE_CACHE: '1' }))
    await stop()
    built.push(await start({}, builtCli))
    await stop()
  }

  const row = (runs: Start[]): Row => {
    const status = runs.map(run => run.status)
    const ready = runs.map(run => run.ready)
    return {
      '→ /api/status 200, median ms': Math.round(median(status)),
      '→ READY=1, median ms': Math.round(median(ready)),
      '→ READY=1, max ms': Math.round(Math.max(...ready)),
      'CPU s at READY=1, median': +median(runs.map(run => run.cpu)).toFixed(2),
      runs: runs.length
    }
  }
  await report({
    id: 'cold-start',
    title: 'Cold start: `seed-one start` → /api/status answers, → READY=1',
    command: `npx node bench/cold-start.ts --starts ${starts}`,
    goal: 'context (no goal set)',
    met: null,
    rows: {
      'first start, empty data directory': row([first]),
      'start, existing data directory (paired, 1 film)': row(again),
      'the same, compile cache off': row(uncached),
      'the same, production build (server/build/cli.js)': row(built)
    },
    notes: [
      'From spawning `node server/cli.ts start` (NODE_ENV=production, as the unit sets it; mdns off) to the first 200 of /api/status (polled every 5 ms) and to READY=1 on a notify socket; each start stopped with SIGTERM before the next.',
      `runs, ms to READY=1: ${again.map(run => Math.round(run.ready)).join(' ')}; CPU s: ${again.map(run => run.cpu.toFixed(2)).join(' ')}; ` +
        `compile cache off: ${uncached.map(run => Math.round(run.ready)).join(' ')} ms, ${uncached.map(run => run.cpu.toFixed(2)).join(' ')} CPU s`,
      `production build: ${built.map(run => Math.round(run.ready)).join(' ')} ms, ${built.map(run => run.cpu.toFixed(2)).join(' ')} CPU s (the release's entry, compile cache on)`,
      'compile cache off: NODE_DISABLE_COMPILE_CACHE=1, i.e. every module compiled anew, as before the daemon kept V8 code cache in its data directory; these starts alternate with the cached ones.',
      'CPU s at READY=1: user + system time of the daemon process when READY=1 arrived (/proc), a figure other work on the machine barely changes.',
      'On the box systemd runs `update --recover` (ExecStartPre) before each start, which these figures leave out.'
    ]
  })
} finally {
  if (daemon?.exitCode === null && daemon.signalCode === null) daemon.kill('SIGKILL')
  receiver?.kill()
  await stopChain()
  await rm(dir, { recursive: true, force: true })
}
