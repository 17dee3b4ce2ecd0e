import type { FastifyBaseLogger } from 'fastify'
import { CID } from 'multiformats/cid'
import { CHALLENGE_PATH, type Challenge, type RegistryNode } from './protocol.ts'
import type { NodeStore } from './node-store.ts'
import { recordChallenge } from './challenge-record.ts'
import { blockMatches } from './block-hash.ts'
import { sampleLeaves } from './dag-sampler.ts'
import { fetchBlockFrom } from './block-fetch.ts'
import { BodyTooLargeError, readCappedBody } from '../capped-body.ts'
import { MAX_BLOCK_BYTES } from '../storage/dag-bounds.ts'

export interface ChallengerOptions {
  store: NodeStore
  registry(): Promise<RegistryNode[]>
  /** Mean time between two challenges of one node; each wait is drawn between half and one and a half of it. */
  intervalMs: number
  blocksPerChallenge: number
  /** How long a node has to answer. */
  deadlineMs: number
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

/** Inner DAG blocks are small (a few KiB of links); anything bigger is not what was asked for. */
const MAX_INNER_BLOCK_BYTES = MAX_BLOCK_BYTES
/** An answer is one base64 block (4/3 of its bytes) per block asked, and a little JSON around each. */
const answerBytesAllowed = (blocks: number): number => 1024 + blocks * (Math.ceil((MAX_BLOCK_BYTES * 4) / 3) + 16)
/** Decoded inner blocks kept between challenges: a DAG never changes, so its structure is read once. */
const INNER_BLOCK_CACHE = 1024
/** A claim that failed its challenge is not asked again sooner than this, however often the node reports. */
const CLAIM_RETRY_MS = 30_000

/** The node failed: it lacks what it claims to hold, or answered wrong, late or not at all. */
class ChallengeFailure extends Error {
  override name = 'ChallengeFailure'
}

/** No challenge could be put together (no holder could serve the DAG's structure now, e.g. in quiet hours): no verdict. */
class NoVerdict extends Error {
  override name = 'NoVerdict'
}

const pick = <T>(items: T[]): T => items[Math.floor(Math.random() * items.length)]

/**
 * Proof of holding: at random times, each live node is asked for the bytes of random leaf blocks of
 * a CID it claims to hold. The leaves are found by reading the DAG's inner blocks from the CID's
 * holders (other nodes first, the challenged node last); every block, inner or answered, is checked
 * against its CID, so the monitor needs no copy of the content.
 */
export function startChallenger(opts: ChallengerOptions): Challenger {
  const { store, log } = opts
  const timers = new Map<string, NodeJS.Timeout>()
  const stopping = new AbortController()
  const running = new Set<Promise<unknown>>()
  const innerBlocks = new Map<string, Uint8Array>()
  /** Nodes whose claims are being challenged, and those that reported again meanwhile. */
  const verifying = new Set<string>()
  const verifyAgain = new Set<string>()
  /** When a claim (`deviceId cid`) last failed. */
  const claimFailedAt = new Map<string, number>()

  /**
   * An inner block of the DAG, from the other holders first, then from the challenged node, whose
   * lack of the block (404) or wrong bytes fail it; a node that cannot serve now (quiet hours) does not.
   */
  const readInnerBlock = async (cid: CID, others: string[], node: string): Promise<Uint8Array> => {
    const key = cid.toString()
    const cached = innerBlocks.get(key)
    if (cached !== undefined) return cached
    let bytes: Uint8Array | undefined
    for (const apiUrl of [...others, node]) {
      const answer = await fetchBlockFrom(apiUrl, cid, { maxBytes: MAX_INNER_BLOCK_BYTES, signal: stopping.signal })
      if (answer.kind === 'bytes') {
        bytes = answer.bytes
        break
      }
      if (apiUrl !== node) continue
      if (answer.kind === 'missing') throw new ChallengeFailure(`does not have block ${key}`)
      if (answer.kind === 'wrong') throw new ChallengeFailure(answer.reason)
      throw new NoVerdict(`no holder served block ${key} now (the node: ${answer.reason})`)
    }
    if (bytes === undefined) throw new NoVerdict(`no holder served block ${key}`)
    if (innerBlocks.size >= INNER_BLOCK_CACHE) innerBlocks.delete(innerBlocks.keys().next().value as string)
    innerBlocks.set(key, bytes)
    return bytes
  }

  const ask = async (node: RegistryNode, challenge: Challenge, deadlineMs: number): Promise<void> => {
    let response: Response
    try {
      response = await fetch(`${node.apiUrl}${CHALLENGE_PATH}`, {
        method: 'POST',
        redirect: 'manual',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify(challenge),
        signal: AbortSignal.any([stopping.signal, AbortSignal.timeout(deadlineMs)])
      })
    } catch (err) {
      const timedOut = (err as Error).name === 'TimeoutError'
      throw new ChallengeFailure(timedOut ? 'no answer before the deadline' : `unreachable: ${(err as Error).message}`)
    }
    if (response.status !== 200) throw new ChallengeFailure(`answered ${response.status}`)
    const allowed = answerBytesAllowed(challenge.blocks.length)
    const answer = (await readCappedBody(response.body, allowed)
      .then(body => JSON.parse(body.toString()) as unknown)
      .catch(err => {
        if (err instanceof BodyTooLargeError) throw new ChallengeFailure(`answered more than ${allowed} bytes`)
        return undefined
      })) as { blocks?: unknown } | undefined
    const blocks = answer?.blocks
    if (!Array.isArray(blocks) || blocks.length !== challenge.blocks.length)
      throw new ChallengeFailure('answer is not one entry per block asked')
    for (const [i, block] of blocks.entries()) {
      if (typeof block !== 'string') throw new ChallengeFailure(`does not have block ${challenge.blocks[i]}`)
      if (!(await blockMatches(CID.parse(challenge.blocks[i]), Buffer.from(block, 'base64')))) {
        throw new ChallengeFailure(`block ${challenge.blocks[i]} does not match its CID`)
      }
    }
  }

  const challenge = async (deviceId: string, asked?: string): Promise<ChallengeOutcome | undefined> => {
    const nodes = await opts.registry()
    const node = nodes.find(n => n.deviceId === deviceId)
    if (node === undefined || !node.live || (asked === undefined && node.held.length === 0)) return undefined
    const cid = asked ?? pick(node.held)
    let reason: string | undefined
    try {
      let root: CID
      try {
        root = CID.parse(cid)
      } catch {
        throw new ChallengeFailure(`claims to hold ${cid}, which is not a CID`)
      }
      const others = nodes.filter(n => n.live && n.deviceId !== deviceId && n.held.includes(cid) && !n.failed.includes(cid))
      const holders = others.map(n => n.apiUrl).sort(() => Math.random() - 0.5)
      const blocks = await sampleLeaves(root, opts.blocksPerChallenge, c => readInnerBlock(c, holders, node.apiUrl))
      await ask(node, { cid, blocks: blocks.map(String), deadline: new Date(Date.now() + opts.deadlineMs).toISOString() }, opts.deadlineMs)
    } catch (err) {
      if (err instanceof NoVerdict) {
        log.info({ deviceId, cid, reason: err.message }, 'challenge postponed')
        return undefined
      }
      if (!(err instanceof ChallengeFailure)) throw err
      reason = err.message
    }
    if (stopping.signal.aborted) return undefined // a challenge cut short by the stop says nothing of the node
    const passed = reason === undefined
    await store.updateChallenges(deviceId, record =>
      recordChallenge(record, { cid, passed, at: new Date(), ...(reason !== undefined ? { reason } : {}) }, opts.failuresBeforeFailed)
    )
    if (passed) await store.verifyHolding(deviceId, cid)
    opts.onResult?.(deviceId, passed)
    if (!passed) log.warn({ deviceId, cid, reason }, 'node failed a proof-of-holding challenge')
    return { deviceId, cid, passed, ...(reason !== undefined ? { reason } : {}) }
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

  const verifyClaims = async (deviceId: string): Promise<void> => {
    do {
      verifyAgain.delete(deviceId)
      const node = await store.node(deviceId)
      if (node === undefined) return
      const proven = new Set(node.verifiedHeld)
      for (const cid of node.report.replication.held) {
        const key = `${deviceId} ${cid}`
        if (stopping.signal.aborted) return
        if (proven.has(cid) || (claimFailedAt.get(key) ?? 0) > Date.now() - CLAIM_RETRY_MS) continue
        const outcome = await challenge(deviceId, cid)
        if (outcome?.passed === false) claimFailedAt.set(key, Date.now())
        else claimFailedAt.delete(key)
      }
    } while (verifyAgain.has(deviceId) && !stopping.signal.aborted)
  }

  return {
    watch: deviceId => {
      if (!timers.has(deviceId)) arm(deviceId)
    },
    verifyClaims: deviceId => {
      if (stopping.signal.aborted) return
      if (verifying.has(deviceId)) {
        verifyAgain.add(deviceId)
        return
      }
      verifying.add(deviceId)
      void track(verifyClaims(deviceId))
        .catch(err => log.error({ deviceId, err: (err as Error).message }, 'could not challenge a node’s claims'))
        .finally(() => verifying.delete(deviceId))
    },
    challenge: (deviceId, cid) => track(challenge(deviceId, cid)),
    close: async () => {
      stopping.abort()
      for (const timer of timers.values()) clearTimeout(timer)
      await Promise.allSettled(running)
    }
  }
}
