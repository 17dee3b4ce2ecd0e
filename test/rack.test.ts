// The creator's rack of the README's "Run a rack" section, played from the README's own command blocks
// (issue 17): each block is read from README.md by its `<!-- rack: <name> -->` marker and run by `sh -c`
// in the checkout, after the section's first block (`env`), exactly as a reader pastes them. The test
// sets only what that block leaves to the environment (free ports, a folder of its own) and what a reader
// copies from an earlier step (the custodian's `libp2p:` address, the code the TV shows); everything else
// is the README's text. Devnet, monitor, custodian, publish while the custodian runs, three storage nodes,
// `seed-one buy`, a player paired with `seed-one pair`: every part of the film reaches 3 copies and the
// monitor's fleet dashboard says so. The nodes report at the default interval: the early report a pin
// brings is what tells the monitor.
import t from 'tap'
import { spawn } from 'node:child_process'
import { mkdtemp, rm } from 'node:fs/promises'
import { createServer } from 'node:net'
import { tmpdir } from 'node:os'
import path from 'node:path'
import { fileURLToPath } from 'node:url'
import type { Fleet } from '../server/monitor/fleet.ts'
import type { LibraryFilmView } from '../server/library/film-view.ts'
import { freePort } from './helpers/daemon-process.ts'
import { getJson } from './helpers/http.ts'
import { CookieJar } from './helpers/owner-session.ts'
import { pollPairing, session } from './helpers/pairing-client.ts'
import { readmeMarkedBlocks } from './helpers/readme.ts'
import type { Test } from './helpers/in-process.ts'
import { waitFor } from './helpers/wait-for.ts'
import { collectPageErrors, launchChromium, newTvPage, saveScreenshot } from './helpers/chromium.ts'

const CHECKOUT = fileURLToPath(new URL('..', import.meta.url))
const K = 3
const STEP_TIMEOUT_MS = 180_000
const READY_TIMEOUT_MS = 90_000
const STOP_TIMEOUT_MS = 15_000

const blocks = await readmeMarkedBlocks('rack')
const script = (name: string): string => {
  const block = blocks.find(b => b.name === name)
  if (block === undefined) throw new Error(`README.md has no block marked <!-- rack: ${name} -->`)
  return block.script
}

interface Step {
  output(): string
  exited: Promise<number | null>
  running(): boolean
  /** SIGTERM to the step's process group (its shell and the daemon it started), then SIGKILL if it lingers. */
  stop(): Promise<void>
}

/** The README's `env` block, then the block `name`, as one `sh -c` in the checkout, in a process group of its own. */
function runStep(name: string, env: NodeJS.ProcessEnv): Step {
  const child = spawn('sh', ['-c', `set -e\n${script('env')}\n${script(name)}`], { cwd: CHECKOUT, env, detached: true })
  let output = ''
  child.stdout.on('data', (chunk: Buffer) => (output += chunk))
  child.stderr.on('data', (chunk: Buffer) => (output += chunk))
  // 'close', not 'exit': once every process of the step has let go of its pipes (a daemon outlives the
  // shell that started it by its shutdown, which still writes to the data directory)
  const exited = new Promise<number | null>(resolve => child.once('close', resolve))
  const running = (): boolean => child.exitCode === null && child.signalCode === null
  const signal = (name: NodeJS.Signals): void => {
    try {
      process.kill(-(child.pid as number), name)
    } catch {
      // the group is gone already
    }
  }
  return {
    output: () => output,
    exited,
    running,
    async stop() {
      signal('SIGTERM')
      const killer = setTimeout(() => signal('SIGKILL'), STOP_TIMEOUT_MS)
      await exited
      clearTimeout(killer)
    }
  }
}

const started: Step[] = []
/** The daemons, the player and the nodes before the custodian, the monitor and the chain they talk to. */
async function stopAll(): Promise<void> {
  for (const step of started.reverse()) await step.stop()
}

/** A long-running block (a daemon): started, and waited for until its output matches `ready`. */
async function startStep(name: string, env: NodeJS.ProcessEnv, ready: RegExp): Promise<{ step: Step; match: RegExpExecArray }> {
  const step = runStep(name, env)
  started.push(step)
  const match = await waitFor(
    `the README's "${name}" block to print ${ready}`,
    async () => {
      if (!step.running()) throw new Error(`it exited:\n${step.output()}`)
      return ready.exec(step.output()) ?? undefined
    },
    { timeoutMs: READY_TIMEOUT_MS, lastSeen: () => step.output().slice(-2000) }
  ).catch(err => {
    throw new Error(`${(err as Error).message}\n${step.output()}`)
  })
  return { step, match }
}

/** A block that runs to its end: its output; a failure ends the test at once, with the output. */
async function runToEnd(t: Test, name: string, env: NodeJS.ProcessEnv): Promise<string> {
  const step = runStep(name, env)
  const timer = setTimeout(() => void step.stop(), STEP_TIMEOUT_MS)
  const code = await step.exited
  clearTimeout(timer)
  t.equal(code, 0, `the README's "${name}" block succeeds`)
  if (code !== 0) throw new Error(`the README's "${name}" block exited with ${code}:\n${step.output()}`)
  return step.output()
}

/** A port that is free, with the three after it free too (the storage nodes take STORAGE_PORT + 1…3). */
async function freePortRun(): Promise<number> {
  for (;;) {
    const base = await freePort()
    if (base > 65_000) continue
    const taken = await Promise.all([1, 2, 3].map(async n => await isTaken(base + n)))
    if (!taken.includes(true)) return base
  }
}

async function isTaken(port: number): Promise<boolean> {
  const server = createServer()
  return await new Promise(resolve => {
    server.once('error', () => resolve(true))
    server.listen(port, '127.0.0.1', () => server.close(() => resolve(false)))
  })
}

t.test("the README's rack: a film published while the custodian runs reaches 3 copies of every part", async t => {
  t.same(
    blocks.map(b => b.name),
    ['env', 'devnet', 'monitor', 'custodian', 'clip', 'publish', 'storage', 'buy', 'player', 'pair'],
    "the README's rack blocks, in the order it gives them"
  )
  const ports = {
    CHAIN_PORT: await freePort(),
    MONITOR_PORT: await freePort(),
    CUSTODIAN_PORT: await freePort(),
    CUSTODIAN_P2P_PORT: await freePort(),
    STORAGE_PORT: await freePortRun(),
    PLAYER_PORT: await freePort()
  }
  // the test's env: its own ports and folder; warnings only, so the pipes carry the lines the test reads
  const rack = await mkdtemp(path.join(tmpdir(), 'rack-'))
  t.teardown(async () => {
    await stopAll()
    await rm(rack, { recursive: true, force: true })
  })
  let env: NodeJS.ProcessEnv = {
    ...process.env,
    ...Object.fromEntries(Object.entries(ports).map(([name, port]) => [name, String(port)])),
    // short: the custodian's publish.sock must fit a socket path's 108 bytes, which the testdir's long name would not
    RACK: rack,
    SEED_ONE_LOG_LEVEL: 'warn'
  }
  const url = (port: number): string => `http://127.0.0.1:${port}`

  await startStep('devnet', env, /FilmToken at 0x/)
  await startStep('monitor', env, /monitor is running: /)
  const custodian = await startStep('custodian', env, /libp2p: (\S+)/)
  t.match(custodian.match[1], `/tcp/${ports.CUSTODIAN_P2P_PORT}/p2p/`, 'the custodian listens on the fixed libp2p port')
  env = { ...env, CUSTODIAN_PEER: custodian.match[1] }

  await runToEnd(t, 'clip', env)
  const publish = await runToEnd(t, 'publish', env)
  t.ok(custodian.step.running(), 'the custodian ran throughout the publish')
  const film = JSON.parse(/^\{.*"tokenId".*\}$/m.exec(publish)?.[0] ?? '{}') as { tokenId?: string; title?: string }
  t.equal(film.tokenId, '1', 'publish printed the film, token 1 on a fresh devnet (what the buy block buys)')
  t.equal((await getJson(`${url(ports.CUSTODIAN_PORT)}/api/status`)).roles.includes('custodian'), true, 'the custodian answers after it')

  const nodes = await Promise.all([1, 2, 3].map(async n => await startStep('storage', { ...env, N: String(n) }, /libp2p: /)))
  t.equal(nodes.length, K, 'three storage nodes are up')

  const buy = await runToEnd(t, 'buy', env)
  t.match(buy, /now holds 1/, 'the devnet owner holds a token of the film')

  await startStep('player', env, /is running: /)
  const playerUrl = url(ports.PLAYER_PORT)
  // the TV: the browser that shows the code, and is signed in once the owner signs it
  const tv = new CookieJar()
  const { code } = await pollPairing(playerUrl, tv)
  t.ok(code, 'the TV shows a pairing code')
  await runToEnd(t, 'pair', { ...env, TV_CODE: code })
  // the TV whose code it was is signed in at its next poll, as the pairing screen polls
  t.equal((await pollPairing(playerUrl, tv)).signedIn, true, 'the TV whose code was signed is signed in')
  t.equal((await session(playerUrl, tv)).signedIn, true, 'and holds an owner session')
  const ready = await waitFor(
    'the bought film ready on the player',
    async () => {
      const { films } = await getJson<{ films: LibraryFilmView[] }>(`${playerUrl}/api/library`, { cookie: tv.header() })
      return films.find(f => f.tokenId === film.tokenId && f.state === 'ready')
    },
    { timeoutMs: 120_000 }
  )
  t.equal(ready.title, film.title, 'the player lists the film by its title, ready to play')

  let seen: Fleet | undefined
  const fleet = await waitFor(
    'the dashboard to show every part of the film at 3 copies',
    async () => {
      seen = await getJson<Fleet>(`${url(ports.MONITOR_PORT)}/api/fleet`)
      return seen.films.length === 1 && seen.films[0].complete && seen
    },
    { timeoutMs: 180_000, lastSeen: () => seen?.films }
  )
  const [listed] = fleet.films
  t.same([listed.tokenId, listed.title], [film.tokenId, film.title], 'the dashboard lists the film by its title')
  for (const kind of ['metadata', 'content', 'poster', 'subtitles', 'thumbnails'])
    t.ok(
      listed.parts.some(part => part.kind === kind),
      `the film's ${kind} is one of its parts`
    )
  t.same(
    listed.parts.filter(part => part.copies < K),
    [],
    `every part at ${K} copies or more`
  )
  t.equal(fleet.replication.underReplicated, 0, 'no CID under the minimum')
  t.same(
    fleet.nodes.map(node => node.apiUrl).sort(),
    [1, 2, 3].map(n => url(ports.STORAGE_PORT + n)).sort(),
    'the dashboard lists the three storage nodes by their addresses'
  )
  // and the page says so, as the README tells the reader to look
  const browser = await launchChromium()
  t.teardown(() => browser.close())
  const page = await newTvPage(browser)
  const errors = collectPageErrors(page)
  await page.goto(url(ports.MONITOR_PORT))
  await page.getByText(film.title as string, { exact: true }).waitFor({ timeout: 30_000 })
  t.equal(await page.locator('.status-complete').textContent(), `All at ${K}`, 'the dashboard says every part has its copies')
  await saveScreenshot(page, 'rack-dashboard')
  t.same(errors, [], 'no errors in the page')
})
