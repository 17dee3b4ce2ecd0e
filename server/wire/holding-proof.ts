// Challenge v2 (issue 15): the box proves it holds many leaves now by hashing each with a nonce drawn
// when the challenge is sent, and answers 32 bytes per leaf instead of the leaf: it must read every
// leaf's bytes within the deadline, which a box fetching them over a home uplink cannot (docs/SECURITY.md).
import { createHash } from 'node:crypto'

/** Random bytes of a challenge's nonce: unguessable, so no proof can be computed before the challenge. */
export const NONCE_BYTES = 32
/** base64 of NONCE_BYTES bytes, as the challenge carries it. */
export const NONCE_PATTERN = '^[A-Za-z0-9+/]{43}=$'

/** base64 of sha2-256(nonce ‖ block bytes): the nonce first, so no hash state can be kept in place of the bytes. */
export function holdingProof(nonce: Uint8Array, bytes: Uint8Array): string {
  return createHash('sha256').update(nonce).update(bytes).digest('base64')
}
