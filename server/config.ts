import path from 'node:path'
import { cronEvery } from './lib/cron-interval.ts'
import { configuredName } from './http/host-name.ts'
import { isWildcardHost } from './lib/listen-addresses.ts'
import { assertPortFree, type PortOwner } from './lib/port-check.ts'
import { multiaddr } from '@multiformats/multiaddr'
import { parseFlags, withEnv, type CommandDefinition, type FlagValues } from './lib/command-flags.ts'
import type { ReleaseLimits } from './keys/release-limits.ts'
import type { ChainConfig } from './chain/chain-config.ts'

/** The roles one seed-one process can take (DESIGN: "Roles, one daemon"). */
export type Role = 'player' | 'custodian' | 'storage'
export const ROLES: Role[] = ['player', 'custodian', 'storage']

export interface DaemonConfig {
  dataDir: string
  host: string
  port: number
  roles: Role[]
  chain: ChainConfig
  /** libp2p listen multiaddrs. */
  p2pListen: string[]
  /** No --p2p-listen was given: the port the first start took is kept in the data directory and reused (server/core/kept-p2p-port.ts). */
  keepP2pPort?: boolean
  /** Peers dialled at start (multiaddrs with /p2p/ ids): the custodians and storage nodes we know. */
  peers: string[]
  /** The URL this process is reached at by other boxes (the custodian puts it in film metadata). */
  publicUrl: string
  /** Host names the box answers to besides its own (server/http/host-check.ts), e.g. a name the owner's router gives it. */
  allowedHosts?: string[]
  /** How long a sold film's blocks stay pinned before they are released. */
  unpinGraceMs: number
  /** How long a cached film key keeps working without reaching its custodian again. */
  offlineKeyGraceMs: number
  /** A pin that receives no block for this long gives up until its next retry. */
  pinStallMs: number
  /** A playback read of a film still pinning that waits this long for its blocks from peers fails (default 30 s). */
  playbackFetchTimeoutMs?: number
  chainPollMs: number
  /** The network monitor's base URL; health reports are sent only when it is set. */
  monitorUrl?: string
  /** Seconds between health reports: a divisor of a minute, an hour or a day (see cronEvery). */
  reportIntervalSec: number
  /** Copies of each catalogue CID the storage nodes keep (issue 4: default 5, at least 3). */
  replicationFactor: number
  /**
   * Copies on present (live or resting) nodes under which the storage nodes repair a CID, up to the
   * factor (issue 15: default 3, as the monitor's --min-replicas; every node must use the same value).
   */
  minReplicas: number
  /** How often a storage node reads the monitor's node registry and reconciles its replicas. */
  registryPollMs: number
  /** Find other boxes on the LAN by mDNS (off in tests, so boxes of different tests never meet). */
  mdns: boolean
  /** The image's data disk state, written by root (firmware-image data-disk.sh); unset off the image. */
  diskStateFile?: string
  /**
   * A custodian's creators (`--serve-creator`, repeatable): it releases keys only for their films. Unset:
   * the creators it has published with itself (recorded at publish).
   */
  servedCreators?: string[]
  /** Key releases per device and per owner (default DEFAULT_RELEASE_LIMITS; tests lower them). */
  keyReleaseLimits?: ReleaseLimits
}

export class ConfigError extends Error {
  override name = 'ConfigError'
}

const DAY_MS = 24 * 60 * 60 * 1000

/** Flags shared by every sub-command that runs a daemon; each also reads SEED_ONE_<FLAG>. */
export const daemonFlags = withEnv('SEED_ONE_', {
  'data-dir': { type: 'string', value: 'DIR', description: 'where the box keeps everything', default: './.data' },
  host: { type: 'string', value: 'ADDRESS', description: 'the address HTTP listens on (0.0.0.0: every interface)', default: '127.0.0.1' },
  port: { type: 'string', value: 'N', description: 'the HTTP port', default: '8080' },
  role: {
    type: 'string',
    multiple: true,
    value: ROLES.join('|'),
    description: 'what this process does (DESIGN: roles, one daemon)',
    default: 'player'
  },
  'rpc-url': { type: 'string', value: 'URL', description: "the chain's JSON-RPC URL (`seed-one devnet` prints the devnet's); required" },
  contract: { type: 'string', value: 'ADDRESS', description: "the FilmToken contract's address; required" },
  'deployment-block': { type: 'string', value: 'N', description: 'the block the contract was deployed in', default: '0' },
  confirmations: {
    type: 'string',
    value: 'N',
    description: 'blocks on top of a transfer before it counts',
    default: "the chain's (0 on the devnet)"
  },
  'p2p-listen': {
    type: 'string',
    multiple: true,
    value: 'MULTIADDR',
    description: 'a libp2p listen address, e.g. /ip4/0.0.0.0/tcp/4001, or a bare port (listening where the default does)',
    default: '/ip4/127.0.0.1 (0.0.0.0 with a wildcard --host) on the port the first start took, kept in the data directory'
  },
  peer: { type: 'string', multiple: true, value: 'MULTIADDR', description: 'a box dialled at start (with its /p2p/ id)' },
  'public-url': { type: 'string', value: 'URL', description: 'the URL other boxes reach this one at', default: 'http://<host>:<port>' },
  'allowed-host': { type: 'string', multiple: true, value: 'NAME', description: 'a further host name the box answers to' },
  'unpin-grace-hours': { type: 'string', value: 'N', description: "how long a sold film's blocks stay pinned", default: '168' },
  'chain-poll-ms': { type: 'string', value: 'N', description: 'how often the chain is polled', default: '2000' },
  'monitor-url': { type: 'string', value: 'URL', description: 'the monitor signed health reports go to (none: no reports)' },
  'report-interval-sec': {
    type: 'string',
    value: 'N',
    description: 'seconds between reports; divides a minute, an hour or a day',
    default: '300'
  },
  'replication-factor': { type: 'string', value: 'N', description: 'copies storage nodes keep of each CID (at least 3)', default: '5' },
  'min-replicas': {
    type: 'string',
    value: 'N',
    description: "copies under which storage nodes make more (as the monitor's; 1 to --replication-factor)",
    default: '3'
  },
  'registry-poll-ms': {
    type: 'string',
    value: 'N',
    description: "how often a storage node reads the monitor's registry",
    default: '30000'
  },
  mdns: { type: 'string', value: 'on|off', description: 'find other boxes on the LAN', default: 'on' },
  'disk-state': { type: 'string', value: 'FILE', description: "the image's data-disk state file (written by root on the image)" },
  'serve-creator': {
    type: 'string',
    multiple: true,
    value: 'ADDRESS',
    description: "a custodian's creator it releases keys for",
    default: 'the creators it published with'
  }
})

type DaemonFlagValues = FlagValues<typeof daemonFlags>

function fromEnv(env: NodeJS.ProcessEnv, flag: keyof typeof daemonFlags): string | undefined {
  return env[daemonFlags[flag].env]
}

/** A single-valued flag's value, else its SEED_ONE_* variable. */
function picker(values: DaemonFlagValues, env: NodeJS.ProcessEnv): (flag: keyof typeof daemonFlags) => string | undefined {
  return flag => {
    const v = values[flag]
    return typeof v === 'string' ? v : fromEnv(env, flag)
  }
}

export function integer(name: string, value: string | undefined, fallback: number, min = 0): number {
  if (value === undefined || value === '') return fallback
  if (!/^\d+$/.test(value)) throw new ConfigError(`--${name} must be a whole number, got "${value}"`)
  const n = Number(value)
  if (n < min || n > 2 ** 31) throw new ConfigError(`--${name} must be between ${min} and ${2 ** 31}, got ${value}`)
  return n
}

function list(flagValue: string[] | undefined, envValue: string | undefined): string[] {
  if (flagValue !== undefined && flagValue.length > 0) return flagValue
  return envValue === undefined
    ? []
    : envValue
        .split(',')
        .map(s => s.trim())
        .filter(s => s !== '')
}

/** The host a process on this machine reaches a server listening on `host` at. */
export function reachableHost(host: string): string {
  return isWildcardHost(host) ? '127.0.0.1' : host
}

/**
 * `--port` and `--data-dir` of the commands that take little more (demo, devnet): flag, then
 * SEED_ONE_* variable, then default, validated like the daemon's. `portFromEnv: false` is for a port
 * that is not the daemon's, so SEED_ONE_PORT does not apply to it.
 */
export function resolvePortAndDataDir(
  values: DaemonFlagValues,
  opts: { defaultPort: number; portFromEnv: boolean },
  env: NodeJS.ProcessEnv = process.env
): { port: number; dataDir: string } {
  const pick = picker(values, env)
  return {
    port: integer('port', opts.portFromEnv ? pick('port') : values.port, opts.defaultPort),
    dataDir: path.resolve(pick('data-dir') ?? '.data')
  }
}

/** libp2p listens where HTTP does: on every interface with a wildcard --host, else on loopback. */
const p2pHost = (host: string): string => (isWildcardHost(host) ? '0.0.0.0' : '127.0.0.1')

/** A --p2p-listen value: a multiaddr, or a bare port, which listens where the default would. */
function listenAddress(value: string, host: string): string {
  if (/^\d+$/.test(value)) return `/ip4/${p2pHost(host)}/tcp/${integer('p2p-listen', value, 0)}`
  if (!isMultiaddr(value)) {
    throw new ConfigError(`--p2p-listen takes a libp2p address such as /ip4/0.0.0.0/tcp/4001, or a bare port such as 4001; got "${value}"`)
  }
  return value
}

/** A --peer value: a box's multiaddr with its /p2p/ id, as its start prints it. */
function peerAddress(value: string): string {
  if (!isMultiaddr(value) || !value.includes('/p2p/')) {
    throw new ConfigError(
      `--peer takes a box's libp2p address with its id, such as /ip4/192.168.1.20/tcp/4001/p2p/12D3KooW… (the "libp2p:" line its start prints); got "${value}"`
    )
  }
  return value
}

function isMultiaddr(value: string): boolean {
  try {
    multiaddr(value)
    return true
  } catch {
    return false
  }
}

/** The monitor's URL (http or https, no trailing slash) and a report interval node-cron can keep. */
function monitorConfig(url: string | undefined, reportIntervalSec: number): Pick<DaemonConfig, 'monitorUrl' | 'reportIntervalSec'> {
  try {
    cronEvery(reportIntervalSec)
  } catch (err) {
    throw new ConfigError(`--report-interval-sec: ${(err as Error).message}`)
  }
  if (url === undefined || url === '') return { reportIntervalSec }
  if (!/^https?:\/\/[^/\s]+(\/\S*)?$/.test(url)) throw new ConfigError(`--monitor-url must be an http(s) URL, got "${url}"`)
  return { monitorUrl: url.replace(/\/+$/, ''), reportIntervalSec }
}

/** The chain flags (--rpc-url, --contract required), then their SEED_ONE_* variables. */
export function resolveChainConfig(values: DaemonFlagValues, env: NodeJS.ProcessEnv = process.env): ChainConfig {
  const pick = picker(values, env)
  const rpcUrl = pick('rpc-url')
  const contractAddress = pick('contract')
  if (rpcUrl === undefined || contractAddress === undefined) {
    throw new ConfigError(
      'a chain is needed: pass --rpc-url and --contract (or SEED_ONE_RPC_URL and SEED_ONE_CONTRACT); `seed-one devnet` prints both'
    )
  }
  if (!/^0x[0-9a-fA-F]{40}$/.test(contractAddress)) throw new ConfigError(`--contract is not an address: "${contractAddress}"`)
  const confirmations = pick('confirmations')
  return {
    rpcUrl,
    contractAddress,
    deploymentBlock: integer('deployment-block', pick('deployment-block'), 0),
    ...(confirmations !== undefined ? { confirmations: integer('confirmations', confirmations, 0) } : {})
  }
}

/** Resolves a daemon's configuration: flags first, then SEED_ONE_* variables, then defaults. */
export function resolveDaemonConfig(values: DaemonFlagValues, env: NodeJS.ProcessEnv = process.env): DaemonConfig {
  const pick = picker(values, env)
  const host = pick('host') ?? '127.0.0.1'
  const { port, dataDir } = resolvePortAndDataDir(values, { defaultPort: 8080, portFromEnv: true }, env)
  const roles = list(values.role, fromEnv(env, 'role'))
  for (const role of roles) {
    if (!(ROLES as string[]).includes(role)) throw new ConfigError(`--role must be one of ${ROLES.join(', ')}, got "${role}"`)
  }
  const p2pListen = list(values['p2p-listen'], fromEnv(env, 'p2p-listen')).map(address => listenAddress(address, host))
  const allowedHosts = list(values['allowed-host'], fromEnv(env, 'allowed-host'))
  for (const name of allowedHosts) {
    if (configuredName(name) === undefined) throw new ConfigError(`--allowed-host must be a host name or address, got "${name}"`)
  }
  const publicUrl = pick('public-url') ?? `http://${reachableHost(host)}:${port}`
  if (!URL.canParse(publicUrl)) throw new ConfigError(`--public-url must be a URL, got "${publicUrl}"`)
  const servedCreators = list(values['serve-creator'], fromEnv(env, 'serve-creator'))
  for (const address of servedCreators) {
    if (!/^0x[0-9a-fA-F]{40}$/.test(address)) throw new ConfigError(`--serve-creator is not an address: "${address}"`)
  }
  const mdns = pick('mdns') ?? 'on'
  if (mdns !== 'on' && mdns !== 'off') throw new ConfigError(`--mdns must be on or off, got "${mdns}"`)
  return {
    dataDir,
    host,
    port,
    roles: roles.length === 0 ? ['player'] : (roles as Role[]),
    chain: resolveChainConfig(values, env),
    p2pListen: p2pListen.length > 0 ? p2pListen : [`/ip4/${p2pHost(host)}/tcp/0`],
    keepP2pPort: p2pListen.length === 0,
    peers: list(values.peer, fromEnv(env, 'peer')).map(peerAddress),
    publicUrl,
    allowedHosts,
    unpinGraceMs: integer('unpin-grace-hours', pick('unpin-grace-hours'), 7 * 24) * 60 * 60 * 1000,
    offlineKeyGraceMs: 30 * DAY_MS,
    pinStallMs: 60_000,
    chainPollMs: integer('chain-poll-ms', pick('chain-poll-ms'), 2000, 50),
    ...monitorConfig(pick('monitor-url'), integer('report-interval-sec', pick('report-interval-sec'), 300, 1)),
    ...replicationFactors(pick('replication-factor'), pick('min-replicas')),
    registryPollMs: integer('registry-poll-ms', pick('registry-poll-ms'), 30_000, 100),
    mdns: mdns === 'on',
    diskStateFile: pick('disk-state'),
    ...(servedCreators.length > 0 ? { servedCreators } : {})
  }
}

/** The target and the minimum copies of a CID: minimum ≤ target. */
function replicationFactors(factor: string | undefined, min: string | undefined): { replicationFactor: number; minReplicas: number } {
  const replicationFactor = integer('replication-factor', factor, 5, 3)
  const minReplicas = integer('min-replicas', min, 3, 1)
  if (minReplicas > replicationFactor)
    throw new ConfigError(`--min-replicas (${minReplicas}) must be at most --replication-factor (${replicationFactor})`)
  return { replicationFactor, minReplicas }
}

export function parseDaemonArgs(args: string[]): { values: DaemonFlagValues; positionals: string[] } {
  return parseFlags(daemonFlags, args)
}

export const startDefinition: CommandDefinition = {
  name: 'start',
  summary: 'run the daemon: a player, a custodian and/or a storage node on one chain',
  flags: daemonFlags
}

/**
 * Throws when the HTTP port this configuration names is taken, naming it and the flag (`owner`) that
 * changes it: checked before a start creates anything.
 */
export async function assertPortsFree(config: DaemonConfig, owner: PortOwner = { flag: '--port' }): Promise<void> {
  await assertPortFree(config.host, config.port, owner)
}
