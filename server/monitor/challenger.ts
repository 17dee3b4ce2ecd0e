import { randomInt } from 'node:crypto'
import type { FastifyBaseLogger } from 'fastify'
import { CID } from 'multiformats/cid'
import type { RegistryNode } from '../wire/monitor-protocol.ts'
import type { NodeStore } from './node-store.ts'
import { recordChallenge } from './challenge-record.ts'
import { sampleLeaves } from './dag-sampler.ts'
import { ChallengeFailure, createInnerBlockReader, NoVerdict, type InnerBlockReader } from './challenge-exchange.ts'
import { proveLeaves, type ProofOptions } from './proof-exchange.ts'

export interface ChallengerOptions {
  store: NodeStore
  registry(): Promise<RegistryNode[]>
  /** Mean time between two challenges of one node; each wait is drawn between half and one and a half of it. */
  intervalMs: number
  /** Leaves asked in one challenge: enough that fetching them over a home uplink misses the deadline. */
  blocksPerChallenge: number
  /** The deadline and checks of the answer (challenge v2). */
  proof: ProofOptions
  /** Failures in a row for one CID that put it in the node's failed list. */
  failuresBeforeFailed: number
  log: FastifyBaseLogger
  onResult?(deviceId: string, passed: boolean): void
}

export interface ChallengeOutcome {
  deviceId: string
  cid: string
  passed: boolean
  reason?: string
}

export interface Challenger {
  /** Puts a node on the schedule (idempotent): called for every accepted report. */
  watch(deviceId: string): void
  /**
   * Challenges, one at a time and without waiting for the schedule, each CID the node claims that it
   * has not proven holding since it claimed it: a claim counts as a copy (the registry's `held`) only
   * once passed. Called for every accepted report of a listed node.
   */
  verifyClaims(deviceId: string): void
  /** Challenges the node now, for `cid` or a random CID it proved holding: undefined when it is not listed live or holds nothing. */
  challenge(deviceId: string, cid?: string): Promise<ChallengeOutcome | undefined>
  close(): Promise<void>
}

/** A claim that failed its challenge is not asked again sooner than this, however often the node reports. */
const CLAIM_RETRY_MS = 30_000

const pick = <T>(items: T[]): T => items[Math.floor(Math.random() * items.length)]

type Challenge = (deviceId: string, cid?: string) => Promise<ChallengeOutcome | undefined>

/** Uniform in [0, 1) from a CSPRNG: which leaves are asked must not be predictable. */
const unpredictable = (): number => randomInt(2 ** 47) / 2 ** 47

/**
 * Proof of holding: at random times, each live node is asked to prove it holds random leaf blocks of
 * a CID it claims to hold (proof-exchange.ts). The leaves are found by reading the DAG's inner blocks
 * from the CID's holders (other nodes first, the challenged node last); every block, inner or
 * answered, is checked against its CID, so the monitor needs no copy of the content.
 */
export function startChallenger(opts: ChallengerOptions): Challenger {
  const { store, log } = opts
  const timers = new Map<string, NodeJS.Timeout>()
  const stopping = new AbortController()
  const running = new Set<Promise<unknown>>()
  const readInnerBlock = createInnerBlockReader(stopping.signal)

  const challenge: Challenge = async (deviceId, asked) => {
    const nodes = await opts.registry()
    const node = nodes.find(n => n.deviceId === deviceId)
    if (node === undefined || !node.live || (asked === undefined && node.held.length === 0)) return undefined
    const cid = asked ?? pick(node.held)
    let reason: string | undefined
    try {
      await proveHolding(opts, nodes, node, cid, readInnerBlock, stopping.signal)
    } catch (err) {
      if (err instanceof NoVerdict) {
        log.info({ deviceId, cid, reason: err.message }, 'challenge postponed')
        return undefined
      }
      if (!(err instanceof ChallengeFailure)) throw err
      reason = err.message
    }
    if (stopping.signal.aborted) return undefined // a challenge cut short by the stop says nothing of the node
    return await recordOutcome(opts, deviceId, cid, reason)
  }

  const track = <T>(work: Promise<T>): Promise<T> => {
    running.add(work)
    void work.finally(() => running.delete(work)).catch(() => {})
    return work
  }

  const arm = (deviceId: string): void => {
    if (stopping.signal.aborted) return
    const wait = opts.intervalMs * (0.5 + Math.random())
    const timer = setTimeout(() => {
      void track(challenge(deviceId))
        .catch(err => log.error({ deviceId, err: (err as Error).message }, 'could not challenge a node'))
        .finally(() => {
          // a node pruned from the registry leaves the schedule; a report of it puts it back (watch)
          void store.node(deviceId).then(
            node => (node === undefined ? timers.delete(deviceId) : arm(deviceId)),
            () => arm(deviceId)
          )
        })
    }, wait)
    timer.unref()
    timers.set(deviceId, timer)
  }

  return {
    watch: deviceId => {
      if (!timers.has(deviceId)) arm(deviceId)
    },
    verifyClaims: claimVerifier(store, challenge, track, stopping.signal, log),
    challenge: (deviceId, cid) => track(challenge(deviceId, cid)),
    close: async () => {
      stopping.abort()
      for (const timer of timers.values()) clearTimeout(timer)
      await Promise.allSettled(running)
    }
  }
}

/** Challenges `node` for `cid`: throws ChallengeFailure when it fails, NoVerdict when no challenge could be put together. */
async function proveHolding(
  opts: ChallengerOptions,
  nodes: RegistryNode[],
  node: RegistryNode,
  cid: string,
  readInnerBlock: InnerBlockReader,
  stopping: AbortSignal
): Promise<void> {
  let root: CID
  try {
    root = CID.parse(cid)
  } catch {
    throw new ChallengeFailure(`claims to hold ${cid}, which is not a CID`)
  }
  const others = nodes.filter(n => n.live && n.deviceId !== node.deviceId && n.held.includes(cid) && !n.failed.includes(cid))
  const holders = others.map(n => n.apiUrl).sort(() => Math.random() - 0.5)
  const blocks = await sampleLeaves(root, opts.blocksPerChallenge, c => readInnerBlock(c, holders, node.apiUrl), unpredictable)
  await proveLeaves(node, cid, blocks, opts.proof, stopping)
}

/** Keeps the verdict in the node's challenge record; a pass makes the claim count as a copy. */
async function recordOutcome(
  opts: ChallengerOptions,
  deviceId: string,
  cid: string,
  reason: string | undefined
): Promise<ChallengeOutcome> {
  const passed = reason === undefined
  await opts.store.updateChallenges(deviceId, record =>
    recordChallenge(record, { cid, passed, at: new Date(), ...(reason !== undefined ? { reason } : {}) }, opts.failuresBeforeFailed)
  )
  if (passed) await opts.store.verifyHolding(deviceId, cid)
  opts.onResult?.(deviceId, passed)
  if (!passed) opts.log.warn({ deviceId, cid, reason }, 'node failed a proof-of-holding challenge')
  return { deviceId, cid, passed, ...(reason !== undefined ? { reason } : {}) }
}

/** Challenger.verifyClaims: one verification of a node's claims at a time, once more if it reported again meanwhile. */
function claimVerifier(
  store: NodeStore,
  challenge: Challenge,
  track: <T>(work: Promise<T>) => Promise<T>,
  stopping: AbortSignal,
  log: FastifyBaseLogger
): (deviceId: string) => void {
  /** Nodes whose claims are being challenged, and those that reported again meanwhile. */
  const verifying = new Set<string>()
  const verifyAgain = new Set<string>()
  /** When a claim (`deviceId cid`) last failed. */
  const claimFailedAt = new Map<string, number>()

  const verifyClaims = async (deviceId: string): Promise<void> => {
    do {
      verifyAgain.delete(deviceId)
      const node = await store.node(deviceId)
      if (node === undefined) return
      const proven = new Set(node.verifiedHeld)
      for (const cid of node.report.replication.held) {
        const key = `${deviceId} ${cid}`
        if (stopping.aborted) return
        if (proven.has(cid) || (claimFailedAt.get(key) ?? 0) > Date.now() - CLAIM_RETRY_MS) continue
        const outcome = await challenge(deviceId, cid)
        if (outcome?.passed === false) claimFailedAt.set(key, Date.now())
        else claimFailedAt.delete(key)
      }
    } while (verifyAgain.has(deviceId) && !stopping.aborted)
  }

  return deviceId => {
    if (stopping.aborted) return
    if (verifying.has(deviceId)) {
      verifyAgain.add(deviceId)
      return
    }
    verifying.add(deviceId)
    void track(verifyClaims(deviceId))
      .catch(err => log.error({ deviceId, err: (err as Error).message }, 'could not challenge a node’s claims'))
      .finally(() => verifying.delete(deviceId))
  }
}
