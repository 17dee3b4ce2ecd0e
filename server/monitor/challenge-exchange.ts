// One proof-of-holding challenge on the wire: the DAG's inner blocks read from the CID's holders to
// find its leaves, and the challenged node's answer checked block by block against the CIDs asked.
import { CID } from 'multiformats/cid'
import { CHALLENGE_PATH, type Challenge, type RegistryNode } from '../wire/monitor-protocol.ts'
import { blockMatches } from '../wire/block-hash.ts'
import { fetchBlockFrom } from './block-fetch.ts'
import { BodyTooLargeError, readCappedBody } from '../lib/capped-body.ts'
import { MAX_BLOCK_BYTES } from '../wire/dag-bounds.ts'

/** Inner DAG blocks are small (a few KiB of links); anything bigger is not what was asked for. */
const MAX_INNER_BLOCK_BYTES = MAX_BLOCK_BYTES
/** An answer is one base64 block (4/3 of its bytes) per block asked, and a little JSON around each. */
const answerBytesAllowed = (blocks: number): number => 1024 + blocks * (Math.ceil((MAX_BLOCK_BYTES * 4) / 3) + 16)
/** Decoded inner blocks kept between challenges: a DAG never changes, so its structure is read once. */
const INNER_BLOCK_CACHE = 1024

/** The node failed: it lacks what it claims to hold, or answered wrong, late or not at all. */
export class ChallengeFailure extends Error {
  override name = 'ChallengeFailure'
}

/** No challenge could be put together (no holder could serve the DAG's structure now, e.g. in quiet hours): no verdict. */
export class NoVerdict extends Error {
  override name = 'NoVerdict'
}

export type InnerBlockReader = (cid: CID, others: string[], node: string) => Promise<Uint8Array>

/**
 * Reads an inner block of the DAG, from the other holders first, then from the challenged node, whose
 * lack of the block (404) or wrong bytes fail it; a node that cannot serve now (quiet hours) does not.
 */
export function createInnerBlockReader(stopping: AbortSignal): InnerBlockReader {
  const innerBlocks = new Map<string, Uint8Array>()
  return async (cid, others, node) => {
    const key = cid.toString()
    const cached = innerBlocks.get(key)
    if (cached !== undefined) return cached
    let bytes: Uint8Array | undefined
    for (const apiUrl of [...others, node]) {
      const answer = await fetchBlockFrom(apiUrl, cid, { maxBytes: MAX_INNER_BLOCK_BYTES, signal: stopping })
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
}

/** The node answered with a status other than 200. */
export class ChallengeRefused extends ChallengeFailure {
  override name = 'ChallengeRefused'
  readonly status: number
  constructor(status: number) {
    super(`answered ${status}`)
    this.status = status
  }
}

/** Sends `challenge` to the node: its answer as JSON (undefined when it is not JSON), refused past `allowedBytes`. */
export async function postChallenge(
  node: RegistryNode,
  challenge: Challenge,
  opts: { deadlineMs: number; allowedBytes: number; stopping: AbortSignal }
): Promise<unknown> {
  let response: Response
  try {
    response = await fetch(`${node.apiUrl}${CHALLENGE_PATH}`, {
      method: 'POST',
      redirect: 'manual',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify(challenge),
      signal: AbortSignal.any([opts.stopping, AbortSignal.timeout(opts.deadlineMs)])
    })
  } catch (err) {
    const timedOut = (err as Error).name === 'TimeoutError'
    throw new ChallengeFailure(timedOut ? 'no answer before the deadline' : `unreachable: ${(err as Error).message}`)
  }
  if (response.status !== 200) {
    await response.body?.cancel()
    throw new ChallengeRefused(response.status)
  }
  return await readCappedBody(response.body, opts.allowedBytes)
    .then(body => JSON.parse(body.toString()) as unknown)
    .catch(err => {
      if (err instanceof BodyTooLargeError) throw new ChallengeFailure(`answered more than ${opts.allowedBytes} bytes`)
      if ((err as Error).name === 'TimeoutError') throw new ChallengeFailure('no answer before the deadline')
      return undefined
    })
}

/** Sends a v1 `challenge` (no nonce) to the node and checks its answer: the blocks' bytes, each matching its CID. */
export async function askNode(node: RegistryNode, challenge: Challenge, deadlineMs: number, stopping: AbortSignal): Promise<Uint8Array[]> {
  const allowedBytes = answerBytesAllowed(challenge.blocks.length)
  const answer = (await postChallenge(node, challenge, { deadlineMs, allowedBytes, stopping })) as { blocks?: unknown } | undefined
  const blocks = answer?.blocks
  if (!Array.isArray(blocks) || blocks.length !== challenge.blocks.length)
    throw new ChallengeFailure('answer is not one entry per block asked')
  const checked: Uint8Array[] = []
  for (const [i, block] of blocks.entries()) {
    if (typeof block !== 'string') throw new ChallengeFailure(`does not have block ${challenge.blocks[i]}`)
    const bytes = Buffer.from(block, 'base64')
    if (!(await blockMatches(CID.parse(challenge.blocks[i]), bytes))) {
      throw new ChallengeFailure(`block ${challenge.blocks[i]} does not match its CID`)
    }
    checked.push(bytes)
  }
  return checked
}
