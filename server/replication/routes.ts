// A storage node's routes for the network: raw blocks for whoever checks them against their CID (the
// monitor walking a DAG, boxes replicating or pinning a film: storage/block-fetcher.ts), and answers
// to the monitor's proofs of holding.
// Neither changes any state, so neither needs an owner session.
import type { FastifyInstance, FastifyReply } from 'fastify'
import type { Helia } from 'helia'
import { CID } from 'multiformats/cid'
import { BLOCK_PATH, CHALLENGE_PATH, type Challenge, type ChallengeAnswer, type ChallengeProofs } from '../wire/monitor-protocol.ts'
import { holdingProof, NONCE_PATTERN } from '../wire/holding-proof.ts'
import { SeedError } from '../lib/errors.ts'
import type { PeerServing } from './peer-serving.ts'
// serving never fetches from others: only blocks on this node's own disk
import { heldBlock } from '../storage/content.ts'

/** Blocks a v1 challenge may ask for: leaves are up to 1 MiB, and the answer must not become a download. */
export const MAX_CHALLENGE_BLOCKS = 8
/**
 * Blocks a v2 challenge (with a nonce) may ask for: the answer is 44 bytes each, but each is a 1 MiB read
 * and hash for anyone who asks (about 0.2 s for 64 on this machine, about 1 s on a Pi 4: docs/SECURITY.md).
 */
export const MAX_PROOF_BLOCKS = 64
/** When a refused peer may ask again: quiet hours are set in minutes. */
const QUIET_RETRY_AFTER_SEC = 60

const cidString = { type: 'string', pattern: '^[A-Za-z0-9]{8,200}$' }

export interface ReplicationRoutesOptions {
  helia: Helia
  serving: PeerServing
}

function parseCid(text: string): CID {
  try {
    return CID.parse(text)
  } catch {
    throw new SeedError('SEED_BAD_CID', `not a CID: "${text}"`)
  }
}

/** Aborted when the client goes away before its answer is sent (the request's own 'close' comes once its body is read). */
function clientGone(reply: FastifyReply): AbortSignal {
  const controller = new AbortController()
  reply.raw.once('close', () => controller.abort())
  return controller.signal
}

export async function replicationRoutes(app: FastifyInstance, opts: ReplicationRoutesOptions): Promise<void> {
  const { helia, serving } = opts

  app.get<{ Params: { cid: string } }>(
    BLOCK_PATH,
    { schema: { params: { type: 'object', required: ['cid'], properties: { cid: cidString } } } },
    async (request, reply) => {
      if (serving.quietHours.quiet()) {
        serving.refused()
        reply.header('retry-after', QUIET_RETRY_AFTER_SEC)
        throw new SeedError('SEED_QUIET_HOURS', 'quiet hours: this box serves no peers now')
      }
      const cid = parseCid(request.params.cid)
      const signal = clientGone(reply)
      const bytes = await heldBlock(helia.blockstore, cid, signal)
      if (bytes === undefined) throw new SeedError('SEED_BLOCK_NOT_FOUND', `block ${cid} is not held here`)
      await serving.pace(bytes.byteLength, signal)
      serving.served(bytes.byteLength)
      return await reply
        .type('application/vnd.ipld.raw')
        .header('cache-control', 'public, max-age=31536000, immutable')
        .send(Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength))
    }
  )

  app.post<{ Body: Challenge }>(
    CHALLENGE_PATH,
    {
      schema: {
        body: {
          type: 'object',
          additionalProperties: false,
          required: ['cid', 'blocks', 'deadline'],
          properties: {
            cid: cidString,
            blocks: { type: 'array', minItems: 1, maxItems: MAX_PROOF_BLOCKS, items: cidString },
            deadline: { type: 'string', format: 'date-time' },
            nonce: { type: 'string', pattern: NONCE_PATTERN }
          }
        },
        response: {
          200: {
            type: 'object',
            properties: {
              blocks: { type: 'array', items: { type: ['string', 'null'] } },
              proofs: { type: 'array', items: { type: ['string', 'null'] } }
            }
          }
        }
      }
    },
    // answered in quiet hours too and not paced by the upload cap: a proof has a deadline, and is small
    async (request, reply): Promise<ChallengeAnswer | ChallengeProofs> => {
      const { nonce } = request.body
      parseCid(request.body.cid)
      const cids = request.body.blocks.map(parseCid)
      if (nonce === undefined && cids.length > MAX_CHALLENGE_BLOCKS) {
        throw new SeedError(
          'SEED_BAD_CHALLENGE',
          `a challenge without a nonce asks at most ${MAX_CHALLENGE_BLOCKS} blocks, not ${cids.length}`
        )
      }
      const signal = clientGone(reply)
      const nonceBytes = nonce === undefined ? undefined : Buffer.from(nonce, 'base64')
      const answers: Array<string | null> = []
      for (const cid of cids) {
        const bytes = await heldBlock(helia.blockstore, cid, signal)
        if (bytes === undefined) answers.push(null)
        else if (nonceBytes !== undefined) answers.push(holdingProof(nonceBytes, bytes))
        else answers.push(Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString('base64'))
      }
      return nonceBytes === undefined ? { blocks: answers } : { proofs: answers }
    }
  )
}
