#!/usr/bin/env node
import path from 'node:path'
import { parseArgs } from 'node:util'
import { readFile } from 'node:fs/promises'
import { Wallet, type Contract } from 'ethers'
import { ConfigError, daemonFlags, parseDaemonArgs, resolveDaemonConfig, resolvePortAndDataDir } from './config.ts'
import { startDaemon } from './daemon.ts'
import { DEVNET_CHAIN_ID, connectFilmToken } from './chain/film-token.ts'
import { CONTENT_CLASSES } from './library/film-metadata.ts'
import { openStateDb } from './storage/state-db.ts'
import { loadOrCreateDeviceIdentity } from './identity/device-identity.ts'
import { createStorageNode, stopStorageNode } from './storage/helia-node.ts'
import { openCustodyStore } from './keys/custody-store.ts'
import { publishFilm } from './publish/publish-film.ts'

const USAGE = `seed-one <command> [options]

  demo       devnet + custodian + demo film + a Seed One paired to a devnet wallet (npm start)
  start      run the daemon            --data-dir --port --host --role player|custodian
                                       --rpc-url --contract --deployment-block --peer <multiaddr>
  devnet     run the local chain only  --port (8545) --data-dir
  publish    publish a film            <video> --title T [--synopsis S] [--subtitles file.srt]
                                       [--language en] [--content-class ${CONTENT_CLASSES.join('|')}]
                                       [--price-wei N] [--creator-key-file F] --custodian-url URL
                                       (on a custodian's --data-dir, while its daemon is stopped)

Every daemon flag also reads SEED_ONE_<FLAG>, e.g. SEED_ONE_PORT, SEED_ONE_DATA_DIR.`

function say(line: string): void {
  process.stdout.write(`${line}\n`)
}

function stopOn(close: () => Promise<void>): void {
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

// demo and devnet load the EVM (a native module) and derive the devnet accounts: imported only when run.
async function demo(args: string[]): Promise<void> {
  const { values } = parseArgs({ args, options: portAndDataDirFlags, strict: true })
  const { port, dataDir } = resolvePortAndDataDir(values, { defaultPort: 8080, portFromEnv: true })
  const { startDemo } = await import('./demo.ts')
  say(`Starting Seed One on embedded defaults (data in ${dataDir})…`)
  const running = await startDemo({ dataDir, port, say })
  stopOn(running.close)
  say(`\nSeed One is running: ${running.box.url}/\n(custodian at ${running.custodian.url}; Ctrl-C stops everything)`)
}

async function start(args: string[]): Promise<void> {
  const { values } = parseDaemonArgs(args)
  const daemon = await startDaemon(resolveDaemonConfig(values))
  stopOn(daemon.close)
  say(`Seed One ${daemon.identity.deviceId} is running: ${daemon.url}/`)
  say(`libp2p: ${daemon.multiaddrs().join(' ')}`)
}

async function devnet(args: string[]): Promise<void> {
  const { values } = parseArgs({ args, options: portAndDataDirFlags, strict: true })
  // The devnet's port is its own: SEED_ONE_PORT is the daemon's.
  const { port, dataDir } = resolvePortAndDataDir(values, { defaultPort: 8545, portFromEnv: false })
  const { startDevnet } = await import('./devnet/devnet.ts')
  const chain = await startDevnet({ port, stateDir: path.join(dataDir, 'devnet') })
  stopOn(chain.close)
  say(`devnet chain ${chain.chainId} at ${chain.rpcUrl}`)
  say(`FilmToken at ${chain.contractAddress} (deployed in block ${chain.deploymentBlock})`)
  say('devnet-only accounts (publicly known keys: never use them on a real chain):')
  for (const [role, account] of Object.entries(chain.accounts)) say(`  ${role.padEnd(15)} ${account.address}  ${account.privateKey}`)
}

async function publish(args: string[]): Promise<void> {
  const { values, positionals } = parseArgs({
    args,
    allowPositionals: true,
    strict: true,
    options: {
      ...daemonFlags,
      title: { type: 'string' },
      synopsis: { type: 'string' },
      subtitles: { type: 'string', multiple: true },
      language: { type: 'string' },
      'content-class': { type: 'string' },
      'price-wei': { type: 'string' },
      'creator-key-file': { type: 'string' },
      'custodian-url': { type: 'string' }
    }
  })
  const [input] = positionals
  if (input === undefined || values.title === undefined) throw new ConfigError('publish needs a video file and --title')
  const contentClass = CONTENT_CLASSES.find(name => name === (values['content-class'] ?? 'production'))
  if (contentClass === undefined) throw new ConfigError(`--content-class must be one of ${CONTENT_CLASSES.join(', ')}`)
  const config = resolveDaemonConfig(values)
  const chain = await connectFilmToken(config.chain)
  const creator = new Wallet(await creatorKey(values['creator-key-file'], chain.chainId), chain.provider)

  const db = await openStateDb(config.dataDir)
  const identity = await loadOrCreateDeviceIdentity(config.dataDir)
  const helia = await createStorageNode({ dataDir: config.dataDir, privateKey: identity.privateKey, listen: [], bootstrap: [] })
  try {
    let lastStep = ''
    const film = await publishFilm(
      {
        helia,
        db,
        custody: await openCustodyStore(config.dataDir, db),
        contract: chain.contract.connect(creator) as Contract,
        creator: creator.address,
        custodian: { url: values['custodian-url'] ?? config.publicUrl, peerId: identity.deviceId },
        onProgress: (step, fraction) => {
          if (step !== lastStep || fraction === 1)
            process.stdout.write(`\r${step.padEnd(10)} ${(fraction * 100).toFixed(0).padStart(3)}%${fraction === 1 ? '\n' : ''}`)
          lastStep = step
        }
      },
      {
        input: path.resolve(input),
        title: values.title,
        synopsis: values.synopsis,
        subtitles: (values.subtitles ?? []).map(file => ({
          file: path.resolve(file),
          language: values.language ?? 'en',
          label: values.language ?? 'English'
        })),
        contentClass,
        priceWei: values['price-wei'] === undefined ? undefined : BigInt(values['price-wei'])
      }
    )
    say(JSON.stringify(film))
  } finally {
    await stopStorageNode(helia)
    await db.close()
    chain.provider.destroy()
  }
}

/** The creator's key: from --creator-key-file, or on the devnet its devnet-only creator account. */
async function creatorKey(keyFile: string | undefined, chainId: number): Promise<string> {
  if (keyFile !== undefined) return (await readFile(keyFile, 'utf8')).trim()
  if (chainId !== DEVNET_CHAIN_ID) throw new ConfigError('--creator-key-file is required on a public chain')
  const { devnetAccounts } = await import('./devnet/accounts.ts')
  return devnetAccounts.creator.privateKey
}

const commands: Record<string, (args: string[]) => Promise<void>> = { demo, start, devnet, publish }

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
