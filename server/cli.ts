#!/usr/bin/env node
import path from 'node:path'
import { parseArgs } from 'node:util'
import { ConfigError, daemonFlags, parseDaemonArgs, resolveDaemonConfig, resolvePortAndDataDir } from './config.ts'
import { runAsService } from './appliance/service-notify.ts'
import { enableCompileCache } from './appliance/compile-cache.ts'
import { ensureUiBuilt } from './ui/ensure-ui-built.ts'
import { CONTENT_CLASSES } from './library/film-metadata.ts'
import { UPDATE_USAGE, updateCommands } from './update/commands.ts'
import { collectGarbage } from './lib/gc-tuning.ts'

const USAGE = `seed-one <command> [options]

  demo       devnet + custodian + demo film + a Seed One paired to a devnet wallet (npm start)
  start      run the daemon            --data-dir --port --host --role player|custodian
                                       --rpc-url --contract --deployment-block --peer <multiaddr>
                                       --monitor-url URL --report-interval-sec (300)
                                       --replication-factor (5) --min-replicas (3: as the monitor's)
  devnet     run the local chain only  --port (8545) --data-dir
  publish    publish a film            <video> --title T [--year Y] [--synopsis S] [--subtitles file.srt]
                                       [--language en] [--content-class ${CONTENT_CLASSES.join('|')}]
                                       [--expires-at ISO-time (test content only)]
                                       [--price-wei N] [--creator-key-file F] --custodian-url URL
                                       [--cipher chacha20-poly1305 (default)|aes-256-gcm]
                                       (on a custodian's --data-dir, while its daemon is stopped)
  monitor    the network's monitor     --port (8090) --host --data-dir (.data/monitor) --node-timeout-sec
                                       --retention-days --challenge-interval-sec --challenge-blocks
                                       --min-replicas [--rpc-url --contract --deployment-block: the catalogue]
                                       (each flag also reads SEED_ONE_MONITOR_<FLAG>)
${UPDATE_USAGE}

Every daemon flag also reads SEED_ONE_<FLAG>, e.g. SEED_ONE_PORT, SEED_ONE_DATA_DIR.`

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

const portAndDataDirFlags = { port: daemonFlags.port, 'data-dir': daemonFlags['data-dir'] }

// Each command imports what it runs when it runs, so that a quick command (help, update --recover at
// every boot) does not load Helia, libp2p and the EVM first.
async function demo(args: string[]): Promise<void> {
  const { values } = parseArgs({ args, options: portAndDataDirFlags, strict: true })
  const { port, dataDir } = resolvePortAndDataDir(values, { defaultPort: 8080, portFromEnv: true })
  const { startDemo } = await import('./demo.ts')
  await ensureUiBuilt(say)
  say(`Starting Seed One on embedded defaults (data in ${dataDir})…`)
  const running = await startDemo({ dataDir, port, say })
  closeOnSignals(running.close)
  say(`\nSeed One is running: ${running.box.url}/\n(custodian at ${running.custodian.url}; Ctrl-C stops everything)`)
  say(`Open this link once to sign this browser in as the devnet owner:\n  ${running.signInLink}`)
}

/** How long after it is up a daemon is left to settle (its first chain sync, its peers' first exchanges) before its heap is compacted. */
const SETTLED_MS = 5000

async function start(args: string[]): Promise<void> {
  const { values } = parseDaemonArgs(args)
  const config = resolveDaemonConfig(values)
  await enableCompileCache(config.dataDir)
  await ensureUiBuilt(say)
  const { startDaemon } = await import('./daemon.ts')
  // READY=1 for systemd once HTTP listens and Helia is up (systemd/seed-one.service)
  const daemon = await runAsService('start', async () => await startDaemon(config), closeOnSignals)
  say(`Seed One ${daemon.identity.deviceId} is running: ${daemon.url}/`)
  say(`libp2p: ${daemon.multiaddrs().join(' ')}`)
  // Starting leaves garbage and half-empty heap pages behind; collected and compacted once the box is
  // up, it holds ~4 MB less from then on (bench/memory.ts, docs/benchmarks.md).
  setTimeout(() => collectGarbage({ reduceMemory: true }), SETTLED_MS).unref()
}

async function monitor(args: string[]): Promise<void> {
  const { resolveMonitorConfig } = await import('./monitor/monitor-config.ts')
  const config = resolveMonitorConfig(args)
  await ensureUiBuilt(say)
  const { startMonitor } = await import('./monitor/monitor.ts')
  const running = await runAsService('monitor', async () => await startMonitor(config), closeOnSignals)
  say(`Seed One monitor is running: ${running.url}/ (data in ${config.dataDir})`)
}

async function devnet(args: string[]): Promise<void> {
  const { values } = parseArgs({ args, options: portAndDataDirFlags, strict: true })
  // The devnet's port is its own: SEED_ONE_PORT is the daemon's.
  const { port, dataDir } = resolvePortAndDataDir(values, { defaultPort: 8545, portFromEnv: false })
  const { startDevnet } = await import('./devnet/devnet.ts')
  const chain = await startDevnet({ port, stateDir: path.join(dataDir, 'devnet') })
  closeOnSignals(chain.close)
  say(`devnet chain ${chain.chainId} at ${chain.rpcUrl}`)
  say(`FilmToken at ${chain.contractAddress} (deployed in block ${chain.deploymentBlock})`)
  say('devnet-only accounts (publicly known keys: never use them on a real chain):')
  for (const [role, account] of Object.entries(chain.accounts)) say(`  ${role.padEnd(15)} ${account.address}  ${account.privateKey}`)
}

async function publish(args: string[]): Promise<void> {
  const { publishCommand } = await import('./publish/publish-command.ts')
  await publishCommand(args, say)
}

const commands: Record<string, (args: string[]) => Promise<void>> = { demo, start, devnet, publish, monitor, ...updateCommands }

const [command, ...rest] = process.argv.slice(2)
const run = commands[command ?? '']
if (run === undefined) {
  say(USAGE)
  process.exit(command === undefined || command === 'help' || command === '--help' ? 0 : 2)
}
run(rest).catch((err: Error) => {
  process.stderr.write(`seed-one ${command}: ${err.message}\n`)
  if (!(err instanceof ConfigError) && process.env.SEED_ONE_DEBUG !== undefined) process.stderr.write(`${err.stack}\n`)
  process.exit(1)
})
