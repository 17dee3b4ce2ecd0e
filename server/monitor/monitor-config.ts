import path from 'node:path'
import { ConfigError, integer } from '../config.ts'
import type { ChainConfig } from '../chain/chain-config.ts'
import { MAX_CHALLENGE_BLOCKS, MAX_PROOF_BLOCKS } from '../replication/routes.ts'
import { parseFlags } from '../lib/command-flags.ts'
import { monitorFlags } from './monitor-flags.ts'

/**
 * Which nodes the monitor takes reports from: the device ids the network's operator lists in a file
 * (the default), or, on a test network and only when asked for, any device that signs its reports.
 */
export type Admission = { mode: 'allow-list'; admitFile: string } | { mode: 'open' }

export interface MonitorConfig {
  dataDir: string
  host: string
  port: number
  /** A node whose last report is older than this is down. */
  nodeTimeoutMs: number
  /** Report history older than this is pruned. */
  retentionMs: number
  /** A node without a report for this long leaves the registry (with its challenge record). */
  nodeRetentionMs: number
  admission: Admission
  /** node-cron schedule of the history pruning. */
  pruneSchedule: string
  /** Mean time between two challenges of one node. */
  challengeIntervalMs: number
  /** Leaf blocks (1 MiB each) a node proves it holds in one challenge. */
  challengeBlocks: number
  /** The deadline of a challenge: this, plus challengeMsPerBlock per leaf asked (docs/SECURITY.md). */
  challengeDeadlineMs: number
  challengeMsPerBlock: number
  /** Leaves whose bytes are asked once the proofs are in, to check them. */
  challengeChecks: number
  /** Until then, a box from before challenge v2 (it refuses a nonce) is asked the v1 way, not failed. */
  challengeV1Until?: Date
  /** Failed challenges in a row for one CID before the node is treated as not holding it. */
  failuresBeforeFailed: number
  /** Copies under which a CID counts as under-replicated (issue 4: 3). */
  minReplicas: number
  /** When set, the catalogue of registered films is read from the chain, so CIDs nobody holds count too. */
  chain?: ChainConfig
}

const SEC = 1000
const DAY_MS = 24 * 60 * 60 * SEC

/** Flags first, then SEED_ONE_MONITOR_<FLAG> variables (the monitor's own: SEED_ONE_PORT is a box's), then defaults. */
export function resolveMonitorConfig(args: string[], env: NodeJS.ProcessEnv = process.env): MonitorConfig {
  const { values } = parseFlags(monitorFlags, args)
  const pick = (flag: keyof typeof monitorFlags): string | undefined => values[flag] ?? env[monitorFlags[flag].env]
  const rpcUrl = pick('rpc-url')
  const contractAddress = pick('contract')
  if ((rpcUrl === undefined) !== (contractAddress === undefined)) throw new ConfigError('--rpc-url and --contract go together')
  if (contractAddress !== undefined && !/^0x[0-9a-fA-F]{40}$/.test(contractAddress)) {
    throw new ConfigError(`--contract is not an address: "${contractAddress}"`)
  }
  const confirmations = pick('confirmations')
  return {
    admission: admission(pick('admission'), pick('admit-file')),
    dataDir: path.resolve(pick('data-dir') ?? '.data/monitor'),
    host: pick('host') ?? '127.0.0.1',
    port: integer('port', pick('port'), 8090),
    nodeTimeoutMs: integer('node-timeout-sec', pick('node-timeout-sec'), 15 * 60, 1) * SEC,
    retentionMs: integer('retention-days', pick('retention-days'), 30, 1) * DAY_MS,
    nodeRetentionMs: integer('node-retention-days', pick('node-retention-days'), 7, 1) * DAY_MS,
    pruneSchedule: '0 17 * * * *',
    challengeIntervalMs: integer('challenge-interval-sec', pick('challenge-interval-sec'), 60 * 60, 1) * SEC,
    ...challengeConfig(pick),
    failuresBeforeFailed: 2,
    minReplicas: integer('min-replicas', pick('min-replicas'), 3, 1),
    ...(rpcUrl !== undefined && contractAddress !== undefined
      ? {
          chain: {
            rpcUrl,
            contractAddress,
            deploymentBlock: integer('deployment-block', pick('deployment-block'), 0),
            ...(confirmations !== undefined ? { confirmations: integer('confirmations', confirmations, 0) } : {})
          }
        }
      : {})
  }
}

function admission(mode: string | undefined, admitFile: string | undefined): Admission {
  if (mode === 'open') {
    if (admitFile !== undefined) throw new ConfigError('--admission open takes no --admit-file: it admits any device')
    return { mode: 'open' }
  }
  if (mode !== undefined && mode !== 'allow-list') throw new ConfigError(`--admission must be allow-list or open, got "${mode}"`)
  if (admitFile === undefined) {
    throw new ConfigError(
      'the monitor admits the device ids listed in --admit-file (one a line); give that file, or --admission open for a test network'
    )
  }
  return { mode: 'allow-list', admitFile: path.resolve(admitFile) }
}

type ChallengeConfig = Pick<
  MonitorConfig,
  'challengeBlocks' | 'challengeDeadlineMs' | 'challengeMsPerBlock' | 'challengeChecks' | 'challengeV1Until'
>

/**
 * The challenge's size and deadline. Defaults from bench/challenge-fetch.ts (docs/SECURITY.md): 64 leaves
 * in 2 s + 40 ms each (4.56 s) take a Pi 4 about 1 s from its disk (estimated), and a node fetching them
 * from a sibling over a 20 Mbit/s uplink about 27 s (32 leaves over 20 Mbit/s: 13.6 s measured).
 */
function challengeConfig(pick: (flag: keyof typeof monitorFlags) => string | undefined): ChallengeConfig {
  const challengeBlocks = integer('challenge-blocks', pick('challenge-blocks'), 64, 1)
  if (challengeBlocks > MAX_PROOF_BLOCKS)
    throw new ConfigError(`--challenge-blocks: a box proves at most ${MAX_PROOF_BLOCKS} blocks at once`)
  const challengeChecks = integer('challenge-checks', pick('challenge-checks'), 4, 1)
  if (challengeChecks > MAX_CHALLENGE_BLOCKS)
    throw new ConfigError(`--challenge-checks: a box sends at most ${MAX_CHALLENGE_BLOCKS} blocks`)
  const v1Until = pick('challenge-v1-until')
  const challengeV1Until = v1Until === undefined ? undefined : new Date(v1Until)
  if (challengeV1Until !== undefined && Number.isNaN(challengeV1Until.getTime()))
    throw new ConfigError(`--challenge-v1-until must be an ISO date (e.g. 2027-03-01), got "${v1Until}"`)
  return {
    challengeBlocks,
    challengeDeadlineMs: integer('challenge-deadline-ms', pick('challenge-deadline-ms'), 2 * SEC, 1),
    challengeMsPerBlock: integer('challenge-ms-per-block', pick('challenge-ms-per-block'), 40),
    challengeChecks,
    ...(challengeV1Until !== undefined ? { challengeV1Until } : {})
  }
}
