import { equals } from 'multiformats/bytes'
import type { CID } from 'multiformats/cid'
import { identity } from 'multiformats/hashes/identity'
import { sha256 } from 'multiformats/hashes/sha2'

/**
 * True when `bytes` are the block `cid` names: blocks are self-certifying, so whoever sent them,
 * the monitor needs no copy to check them. sha2-256 (what Helia makes) and identity CIDs only;
 * any other hash is refused rather than trusted.
 */
export async function blockMatches(cid: CID, bytes: Uint8Array): Promise<boolean> {
  if (cid.multihash.code === sha256.code) return equals((await sha256.digest(bytes)).digest, cid.multihash.digest)
  if (cid.multihash.code === identity.code) return equals(bytes, cid.multihash.digest)
  return false
}
