#!/usr/bin/env node
import path from 'node:path'
import { ConfigError, assertPortsFree, parseDaemonArgs, resolveDaemonConfig, resolvePortAndDataDir } from './config.ts'
import { parseFlags, wantsHelp } from './lib/command-flags.ts'
import { COMMAND_DEFINITIONS, demoFlags, devnetFlags, help } from './commands.ts'
import { runAsService } from './appliance/service-notify.ts'
import { enableCompileCache } from './appliance/compile-cache.ts'
import { ensureUiBuilt } from './ui/ensure-ui-built.ts'
import { updateCommands } from './update/commands.ts'
import { collectGarbage } from './lib/gc-tuning.ts'
import { undoneIfFailed } from './lib/fresh-dir.ts'
import { assertPortFree } from './lib/port-check.ts'

function say(line: string): void {
  process.stdout.write(`${line}\n`)
}

function closeOnSignals(close: () => Promise<void>): void {
  let stopping = false
  for (const signal of ['SIGINT', 'SIGTERM'] as const) {
    process.once(signal, () => {
      if (stopping) return
      stopping = true
      close().then(
        () => process.exit(0),
        () => process.exit(1)
      )
    })
  }
}

// Each command imports what it runs when it runs, so that a quick command (help, update --recover at
// every boot) does not load Helia, libp2p and the EVM first.
async function demo(args: string[]): Promise<void> {
  const { values } = parseFlags(demoFlags, args)
  const { port, dataDir } = resolvePortAndDataDir(values, { defaultPort: 8080, portFromEnv: true })
  const host = values.host ?? process.env[demoFlags.host.env] ?? '127.0.0.1'
  const { startDemo } = await import('./demo.ts')
  await ensureUiBuilt(say)
  say(`Starting Seed One on embedded defaults (data in ${dataDir})…`)
  // a first run that fails (a port taken) leaves no half-made world behind
  const running = await undoneIfFailed(dataDir, async () => await startDemo({ dataDir, port, host, say }))
  closeOnSignals(running.close)
  say(`\nSeed One is running: ${running.url}/\n(custodian at ${running.custodian.url}; Ctrl-C stops everything)`)
  say(`Open this link once to sign this browser in as the devnet owner:\n  ${running.signInLink}`)
}

/** How long after it is up a daemon is left to settle (its first chain sync, its peers' first exchanges) before its heap is compacted. */
const SETTLED_MS = 5000

async function start(args: string[]): Promise<void> {
  const { values } = parseDaemonArgs(args)
  const config = resolveDaemonConfig(values)
  // A first start that fails (a port taken, a wrong --rpc-url) leaves no data directory with new keys
  // behind; the ports are checked before the compile cache is made in it.
  const daemon = await undoneIfFailed(config.dataDir, async () => {
    await assertPortsFree(config)
    await enableCompileCache(config.dataDir)
    await ensureUiBuilt(say)
    const { startDaemon } = await import('./daemon.ts')
    // READY=1 for systemd once HTTP listens and Helia is up (systemd/seed-one.service)
    return await runAsService('start', async () => await startDaemon(config), closeOnSignals)
  })
  say(`Seed One ${daemon.identity.deviceId} is running: ${daemon.url}/`)
  say(`libp2p: ${daemon.multiaddrs().join(' ')}`)
  // Starting leaves garbage and half-empty heap pages behind; collected and compacted once the box is
  // up, it holds ~4 MB less from then on (bench/memory.ts, docs/benchmarks.md).
  setTimeout(() => collectGarbage({ reduceMemory: true }), SETTLED_MS).unref()
}

async function monitor(args: string[]): Promise<void> {
  const { resolveMonitorConfig } = await import('./monitor/monitor-config.ts')
  const config = resolveMonitorConfig(args)
  await assertPortFree(config.host, config.port, { flag: '--port' })
  await ensureUiBuilt(say)
  const { startMonitor } = await import('./monitor/monitor.ts')
  const running = await runAsService('monitor', async () => await startMonitor(config), closeOnSignals)
  say(`Seed One monitor is running: ${running.url}/ (data in ${config.dataDir})`)
}

async function devnet(args: string[]): Promise<void> {
  const { values } = parseFlags(devnetFlags, args)
  // The devnet's port is its own: SEED_ONE_PORT is the daemon's.
  const { port, dataDir } = resolvePortAndDataDir(values, { defaultPort: 8545, portFromEnv: false })
  await assertPortFree('127.0.0.1', port, { flag: '--port' })
  const { startDevnet } = await import('./devnet/devnet.ts')
  const chain = await startDevnet({ port, stateDir: path.join(dataDir, 'devnet') })
  closeOnSignals(chain.close)
  say(`devnet chain ${chain.chainId} at ${chain.rpcUrl}`)
  say(`FilmToken at ${chain.contractAddress} (deployed in block ${chain.deploymentBlock})`)
  say('devnet-only accounts (publicly known keys: never use them on a real chain):')
  for (const [role, account] of Object.entries(chain.accounts)) say(`  ${role.padEnd(15)} ${account.address}  ${account.privateKey}`)
}

type Command = (args: string[], say: (line: string) => void) => Promise<void>

/** A command whose module is imported only when it runs: each role's build loads only what it uses. */
const lazy =
  (load: () => Promise<Command>) =>
  async (args: string[]): Promise<void> => {
    const command = await load()
    await command(args, say)
  }

const runs: Record<string, (args: string[]) => Promise<void>> = {
  demo,
  start,
  devnet,
  publish: lazy(async () => (await import('./publish/publish-command.ts')).publishCommand),
  buy: lazy(async () => (await import('./market/market-commands.ts')).buyCommand),
  withdraw: lazy(async () => (await import('./market/market-commands.ts')).withdrawCommand),
  pair: lazy(async () => (await import('./market/pair-command.ts')).pairCommand),
  retire: lazy(async () => (await import('./market/market-commands.ts')).retireCommand),
  monitor,
  ...updateCommands,
  'pinning-token': lazy(async () => (await import('./pinning/token-command.ts')).pinningTokenCommand)
}

function main([name, ...rest]: string[]): void {
  if (name === undefined || name === 'help' || name === '--help' || name === '-h') {
    say(help(rest[0]))
    return
  }
  const definition = COMMAND_DEFINITIONS.find(d => d.name === name)
  const run = runs[name]
  if (definition === undefined || run === undefined) {
    process.stderr.write(`seed-one: no command "${name}"\n\n${help(undefined)}\n`)
    process.exit(2)
  }
  if (wantsHelp(rest)) {
    say(help(name))
    return
  }
  run(rest).catch((err: Error & { code?: string }) => {
    // node:util parseArgs's own words ("Unknown option '--x'") say nothing of where the flags are listed
    const hint = err.code?.startsWith('ERR_PARSE_ARGS') === true ? `\n\`seed-one ${name} --help\` lists its flags` : ''
    process.stderr.write(`seed-one ${name}: ${err.message}${hint}\n`)
    if (!(err instanceof ConfigError) && process.env.SEED_ONE_DEBUG !== undefined) process.stderr.write(`${err.stack}\n`)
    process.exit(1)
  })
}

main(process.argv.slice(2))
