import { parseArgs } from 'node:util'
import path from 'node:path'
import { cronEvery } from './lib/cron-interval.ts'
import { configuredName } from './http/host-name.ts'
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

/** Flags shared by every sub-command that runs a daemon; env vars are SEED_ONE_<FLAG>. */
export const daemonFlags = {
  'data-dir': { type: 'string' },
  host: { type: 'string' },
  port: { type: 'string' },
  role: { type: 'string', multiple: true },
  'rpc-url': { type: 'string' },
  contract: { type: 'string' },
  'deployment-block': { type: 'string' },
  confirmations: { type: 'string' },
  'p2p-listen': { type: 'string', multiple: true },
  peer: { type: 'string', multiple: true },
  'public-url': { type: 'string' },
  'allowed-host': { type: 'string', multiple: true },
  'unpin-grace-hours': { type: 'string' },
  'chain-poll-ms': { type: 'string' },
  'monitor-url': { type: 'string' },
  'report-interval-sec': { type: 'string' },
  'replication-factor': { type: 'string' },
  'min-replicas': { type: 'string' },
  'registry-poll-ms': { type: 'string' },
  mdns: { type: 'string' },
  'disk-state': { type: 'string' },
  'serve-creator': { type: 'string', multiple: true }
} as const

type FlagValues = { [K in keyof typeof daemonFlags]?: (typeof daemonFlags)[K] extends { multiple: true } ? string[] : string }

function fromEnv(env: NodeJS.ProcessEnv, flag: string): string | undefined {
  return env[`SEED_ONE_${flag.toUpperCase().replaceAll('-', '_')}`]
}

/** A single-valued flag's value, else its SEED_ONE_* variable. */
function picker(values: FlagValues, env: NodeJS.ProcessEnv): (flag: keyof typeof daemonFlags) => string | undefined {
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

const isWildcardHost = (host: string): boolean => host === '0.0.0.0' || host === '::'

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
  values: FlagValues,
  opts: { defaultPort: number; portFromEnv: boolean },
  env: NodeJS.ProcessEnv = process.env
): { port: number; dataDir: string } {
  const pick = picker(values, env)
  return {
    port: integer('port', opts.portFromEnv ? pick('port') : values.port, opts.defaultPort),
    dataDir: path.resolve(pick('data-dir') ?? '.data')
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

/** Resolves a daemon's configuration: flags first, then SEED_ONE_* variables, then defaults. */
export function resolveDaemonConfig(values: FlagValues, env: NodeJS.ProcessEnv = process.env): DaemonConfig {
  const pick = picker(values, env)
  const host = pick('host') ?? '127.0.0.1'
  const { port, dataDir } = resolvePortAndDataDir(values, { defaultPort: 8080, portFromEnv: true }, env)
  const roles = list(values.role, fromEnv(env, 'role'))
  for (const role of roles) {
    if (!(ROLES as string[]).includes(role)) throw new ConfigError(`--role must be one of ${ROLES.join(', ')}, got "${role}"`)
  }
  const rpcUrl = pick('rpc-url')
  const contractAddress = pick('contract')
  if (rpcUrl === undefined || contractAddress === undefined) {
    throw new ConfigError(
      'a chain is needed: pass --rpc-url and --contract (or SEED_ONE_RPC_URL and SEED_ONE_CONTRACT); `seed-one devnet` prints both'
    )
  }
  if (!/^0x[0-9a-fA-F]{40}$/.test(contractAddress)) throw new ConfigError(`--contract is not an address: "${contractAddress}"`)
  const confirmations = pick('confirmations')
  const p2pListen = list(values['p2p-listen'], fromEnv(env, 'p2p-listen'))
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
    chain: {
      rpcUrl,
      contractAddress,
      deploymentBlock: integer('deployment-block', pick('deployment-block'), 0),
      ...(confirmations !== undefined ? { confirmations: integer('confirmations', confirmations, 0) } : {})
    },
    p2pListen: p2pListen.length > 0 ? p2pListen : [`/ip4/${isWildcardHost(host) ? '0.0.0.0' : '127.0.0.1'}/tcp/0`],
    peers: list(values.peer, fromEnv(env, 'peer')),
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

export function parseDaemonArgs(args: string[]): { values: FlagValues; positionals: string[] } {
  const { values, positionals } = parseArgs({ args, options: daemonFlags, allowPositionals: true, strict: true })
  return { values: values as FlagValues, positionals }
}
