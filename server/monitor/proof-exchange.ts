// Challenge v2 on the wire (issue 15): the node proves it holds many leaves by hashing each with a
// fresh nonce within a deadline that reading them from its own disk meets and fetching them over a
// home uplink misses (docs/SECURITY.md, bench/challenge-fetch.ts); then a few of those leaves' bytes,
// asked the v1 way once the proofs are in, are checked against their CIDs and their proofs.
import { randomBytes, randomInt } from 'node:crypto'
import type { CID } from 'multiformats/cid'
import type { Challenge, RegistryNode } from '../wire/monitor-protocol.ts'
import { holdingProof, NONCE_BYTES } from '../wire/holding-proof.ts'
import { askNode, ChallengeFailure, ChallengeRefused, postChallenge } from './challenge-exchange.ts'

export interface ProofOptions {
  /** Time for the network and the node's start: the same for any number of leaves. */
  deadlineMs: number
  /** Time per leaf asked: a 1 MiB read and hash on the slowest box the network accepts (a Pi 4), with a margin. */
  msPerBlock: number
  /** Leaves whose bytes are asked for once the proofs are in, each checked against its proof. */
  checks: number
  /** Until then, a node that refuses a nonce (a box from before v2) is asked the v1 way instead. */
  v1Until?: Date
}

/** The deadline of the v1 questions (the check of a few leaves, and the fallback for old boxes): a download of a few MiB. */
const V1_DEADLINE_MS = 30_000
/** base64 of a sha2-256 digest. */
const PROOF_PATTERN = /^[A-Za-z0-9+/]{43}=$/
/** An answer of proofs: 44 bytes and a little JSON each. */
const proofBytesAllowed = (blocks: number): number => 1024 + blocks * 64

/** The deadline of a v2 challenge of `blocks` leaves. */
const proofDeadlineMs = (opts: ProofOptions, blocks: number): number => opts.deadlineMs + opts.msPerBlock * blocks

const inMs = (ms: number): string => new Date(Date.now() + ms).toISOString()

/** Challenges `node` to prove it holds `blocks` of `cid` now: throws ChallengeFailure when it does not. */
export async function proveLeaves(
  node: RegistryNode,
  cid: string,
  blocks: CID[],
  opts: ProofOptions,
  stopping: AbortSignal
): Promise<void> {
  const nonce = randomBytes(NONCE_BYTES)
  const deadlineMs = proofDeadlineMs(opts, blocks.length)
  const challenge: Challenge = { cid, blocks: blocks.map(String), deadline: inMs(deadlineMs), nonce: nonce.toString('base64') }
  let answer: unknown
  try {
    answer = await postChallenge(node, challenge, { deadlineMs, allowedBytes: proofBytesAllowed(blocks.length), stopping })
  } catch (err) {
    if (!(err instanceof ChallengeRefused) || err.status !== 400) throw err
    if (opts.v1Until === undefined || opts.v1Until.getTime() <= Date.now())
      throw new ChallengeFailure('refused a challenge with a nonce (400): a box from before challenge v2, which must update')
    await askNode(node, { cid, blocks: challenge.blocks.slice(0, opts.checks), deadline: inMs(V1_DEADLINE_MS) }, V1_DEADLINE_MS, stopping)
    return
  }
  const proofs = proofsOf(answer, challenge.blocks)
  await checkProofs(node, challenge, proofs, nonce, opts.checks, stopping)
}

/** The answer's proofs, one per block asked: a ChallengeFailure names a block the node says it lacks. */
function proofsOf(answer: unknown, blocks: string[]): string[] {
  const proofs = (answer as { proofs?: unknown } | undefined)?.proofs
  if (!Array.isArray(proofs) || proofs.length !== blocks.length) throw new ChallengeFailure('answer is not one proof per block asked')
  for (const [i, proof] of proofs.entries()) {
    if (proof === null) throw new ChallengeFailure(`does not have block ${blocks[i]}`)
    if (typeof proof !== 'string' || !PROOF_PATTERN.test(proof))
      throw new ChallengeFailure(`the proof for block ${blocks[i]} is not a digest`)
  }
  return proofs as string[]
}

/**
 * Asks the bytes of `checks` leaves picked at random now (the node could not know which when it
 * answered) and compares their proofs: a node that answered a share f of the proofs without the bytes
 * passes with a chance of at most f^checks.
 */
async function checkProofs(
  node: RegistryNode,
  challenge: Challenge,
  proofs: string[],
  nonce: Uint8Array,
  checks: number,
  stopping: AbortSignal
): Promise<void> {
  const picked = pickIndexes(proofs.length, checks)
  const blocks = picked.map(i => challenge.blocks[i])
  const bytes = await askNode(node, { cid: challenge.cid, blocks, deadline: inMs(V1_DEADLINE_MS) }, V1_DEADLINE_MS, stopping)
  for (const [j, i] of picked.entries()) {
    if (holdingProof(nonce, bytes[j]) !== proofs[i]) throw new ChallengeFailure(`the proof for block ${blocks[j]} does not match its bytes`)
  }
}

/** `count` distinct indexes below `length`, drawn with a CSPRNG (all of them when count ≥ length). */
function pickIndexes(length: number, count: number): number[] {
  const indexes = [...Array(length).keys()]
  for (let i = indexes.length - 1; i > 0; i--) {
    const j = randomInt(i + 1)
    ;[indexes[i], indexes[j]] = [indexes[j], indexes[i]]
  }
  return indexes.slice(0, Math.min(count, length))
}
