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
  /**
   * Windows in which the box may be silent on purpose (issue 15): the monitor lists it resting, not
   * gone, when it is. Absent from older releases and when the box has none (a box without windows
   * sends what an older monitor takes).
   */
  rest?: RestWindow[]
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

/** Why a box may be silent, and the longest it may be so in one window (see rest-window bounds below). */
export type RestReason = 'quiet-hours' | 'downtime'

/** One window of announced absence, in UTC ISO times of the box's clock (the monitor's timeout absorbs skew). */
export interface RestWindow {
  reason: RestReason
  start: string
  end: string
}

/**
 * The longest window the monitor counts as rest, so that a node cannot rest for ever: quiet hours at
 * most half of each day (a node away more than it is present is not one whose copies can be counted
 * on nightly), planned downtime at most 7 days (a move or a holiday; the monitor's default node
 * retention, after which it forgets a silent node anyway).
 */
export const MAX_REST_MS: Record<RestReason, number> = { 'quiet-hours': 12 * 60 * 60 * 1000, downtime: 7 * 24 * 60 * 60 * 1000 }
/** At most one quiet-hours and one downtime window are announced; a little room for later reasons. */
export const MAX_REST_WINDOWS = 4

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
  /**
   * Not live, but silent inside a window its latest report announced (up to the window's end plus the
   * liveness timeout): present, its copies count, nothing of its share is repaired. A node neither live
   * nor resting is gone. Absent from monitors of older releases (read as false).
   */
  resting?: boolean
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
