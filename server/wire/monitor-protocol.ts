// The contract between a box and the network's monitor (DESIGN decision 8, issue 4). Both sides import
// these types; change them only together with both sides.
import type { SignedPayload } from './signed-payload.ts'

/** POST: body is a SignedReport; 201 accepted, 409 replayed/out of order, 401 bad signature, 400 malformed. */
export const REPORTS_PATH = '/api/reports'
/**
 * GET: { nodes: RegistryNode[] }: the node registry that storage nodes assign the catalogue over. Gzipped
 * when the request takes gzip; a weak ETag names it, and If-None-Match with that tag is answered 304.
 */
export const NODES_PATH = '/api/nodes'
/** On a box. POST body Challenge → ChallengeAnswer (v1) or ChallengeProofs (v2), within Challenge.deadline. Answered even in quiet hours. */
export const CHALLENGE_PATH = '/api/storage/challenge'
/** On a box. GET raw bytes of one block it holds (trustless: the caller checks the bytes against the CID). */
export const BLOCK_PATH = '/api/storage/blocks/:cid'
/**
 * On a box. GET ?nonce=… → SignedPayload of an IdentityStatement, signed by the box's device key: how
 * the monitor learns that a report's apiUrl reaches the device that signed it, before listing it.
 */
export const IDENTITY_PATH = '/api/identity'

/** What a box signs when asked who answers at its apiUrl. */
export interface IdentityStatement {
  purpose: 'seed-one/identity/v1'
  deviceId: string
  /** The URL the box reports as its own (scheme, host and port). */
  apiUrl: string
  /** The monitor's nonce, as asked. */
  nonce: string
}

/** What a box says about itself every few minutes. `payload` of the SignedPayload is this, as JSON. */
export interface HealthReport {
  /** libp2p peer id of the box; its Ed25519 key signs the report. */
  deviceId: string
  /** 1, 2, 3… per device, never reused: the monitor refuses a seq at or below the last it accepted. */
  seq: number
  /** ISO time the report was made (not sent: queued reports keep their time). */
  timestamp: string
  version: string
  uptimeSec: number
  roles: string[]
  /** Where the monitor reaches this box's HTTP API (for challenges): scheme, host and port only. */
  apiUrl: string
  multiaddrs: string[]
  /** Where a browser on the box's own network opens its UI (the monitor's discovery page); absent from older releases. */
  lan?: LanPresence
  system: SystemStats
  storage: {
    pinsHeld: number
    pinnedBytes: number
    /** The owner's quota for replicas, and what replicas use of it now. */
    quotaBytes: number
    replicaBytes: number
  }
  replication: {
    enabled: boolean
    /** Catalogue CIDs this box holds in full (its own library's and replicas). */
    held: string[]
    assigned: number
    met: number
    missing: number
  }
  service: {
    peersConnected: number
    streamsServed: number
    /** Chain head minus the last block the watcher processed; null when the box has no owner to follow. */
    chainSyncLag: number | null
    errorsSinceLastReport: number
  }
}

/** The box's private addresses (lan-address.ts: at most MAX_LAN_ADDRESSES) and the port its UI listens on. */
export interface LanPresence {
  addresses: string[]
  uiPort: number
}

export type SignedReport = SignedPayload

/** One reading of the machine, as the Health screen, the reports and /metrics show it. */
export interface SystemStats {
  at: string
  cpu: { loadPercent: number; load1: number; cores: number; temperatureC: number | null; throttled: number | null }
  memory: { totalBytes: number; usedBytes: number; availableBytes: number }
  /** The file system holding the data directory. */
  disk: { totalBytes: number; usedBytes: number; freeBytes: number }
  /** Counters summed over every interface but loopback, since boot. */
  network: { rxBytes: number; txBytes: number }
}

/** One node as the monitor's registry lists it. */
export interface RegistryNode {
  deviceId: string
  apiUrl: string
  multiaddrs: string[]
  roles: string[]
  lastReportAt: string
  /** A report arrived within the monitor's liveness timeout. */
  live: boolean
  /** The node's latest report has replication on (report.replication.enabled): only such nodes take a share. */
  replicating: boolean
  quotaBytes: number
  replicaBytes: number
  /** CIDs the node claims to hold and has passed a challenge for since claiming: only these count as copies. */
  held: string[]
  /** CIDs this node failed challenges for repeatedly: treat it as not holding them. */
  failed: string[]
  /** Share of challenges passed, 0..1 (1 until challenged). */
  score: number
}

/**
 * "Return the bytes of these blocks of this content" (v1), or with a nonce (v2, issue 15) "prove that
 * you hold these blocks now": the box answers ChallengeProofs instead. A box from before v2 refuses a
 * nonce (400: its schema allows no other field); the monitor then treats it as failing, or asks it
 * the v1 way while --challenge-v1-until is in the future.
 */
export interface Challenge {
  cid: string
  blocks: string[]
  /** ISO time after which the answer does not count. */
  deadline: string
  /** v2: base64 of NONCE_BYTES random bytes (holding-proof.ts), drawn by the monitor for this challenge. */
  nonce?: string
}

/** The answer to a v1 Challenge (no nonce). */
export interface ChallengeAnswer {
  /** base64 bytes of each block, in the order asked; null for a block the box does not have. */
  blocks: Array<string | null>
}

/** The answer to a v2 Challenge (with a nonce). */
export interface ChallengeProofs {
  /** holdingProof(nonce, bytes) of each block, in the order asked; null for a block the box does not have. */
  proofs: Array<string | null>
}
