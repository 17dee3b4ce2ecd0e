// Every error code a Seed One answer can carry, in one list (the model is Fastify's lib/errors.js).
// A code names what went wrong and stays the same when the wording of the message changes: clients
// (the TV UI, a box asking a custodian, tests) recognise a refusal by its code, never by its text.
// The HTTP status of each code is chosen at the edge, in server/http/error-handler.ts, never here.

export const ERROR_CODES = [
  // the box as a whole
  'SEED_STARTING', // the box is still starting: ask again in a moment
  'SEED_WRONG_HOST', // the Host header names no name of this box (DNS rebinding)
  'SEED_BAD_HOST_HEADER', // no usable Host header at all
  'SEED_RATE_LIMITED', // too many requests of one kind from one address or device
  'SEED_TOO_MANY_LISTENERS', // every slot of a long-lived answer is taken
  'SEED_DISK_FULL', // no room on the data disk (a pin, the state database)
  'SEED_CHAIN_UNAVAILABLE', // the chain cannot be read now
  // owner, pairing and revocation
  'SEED_NOT_SIGNED_IN', // the route is the owner's: the browser has no owner session
  'SEED_NOT_THE_OWNER', // signed by a wallet other than the box's owner
  'SEED_NOT_PAIRED', // the box has no owner yet, so no library
  'SEED_PAIRED_ELSEWHERE', // the box is paired with another wallet
  'SEED_NO_PAIRING_CODE', // the browser holds no pairing code
  'SEED_PAIRING_CODE_REFUSED', // a pairing code that is wrong, used or expired
  'SEED_SIGN_IN_LINK_REFUSED', // a demo sign-in link that is used or expired
  'SEED_AUTHORISATION_REFUSED', // an owner's authorisation (EIP-4361) that does not verify
  'SEED_BAD_REVOCATION', // a device revocation that does not verify
  'SEED_DEVICE_REVOKED', // the owner revoked the device after authorising it
  'SEED_BAD_ADDRESS', // not an Ethereum address
  // the library and playback
  'SEED_FILM_NOT_FOUND', // no such film in this library (or hidden from it)
  'SEED_FILM_ASSET_NOT_FOUND', // the film is there, its poster, subtitle track, thumbnail sheet or rendition is not
  'SEED_FILM_NOT_READY', // the film is not playable yet
  'SEED_FILM_NOT_OWNED', // the owner's wallet no longer holds the film (sold)
  'SEED_UNPAIRED', // the box was unpaired while a film played
  'SEED_FILM_KEY_MISSING', // the box holds no key of the film
  'SEED_FILM_KEY_UNCONFIRMED', // the film's custodian must confirm the ownership again
  'SEED_POSITION_PAST_END', // a playback position past the film's duration
  'SEED_SEALED_FILM_DAMAGED', // the box's own copy of a film cannot be opened
  'SEED_FILM_BLOCKS_TIMEOUT', // the blocks at a position did not arrive from the network in time
  // the first boot's data disk
  'SEED_NO_DISK_WAITING', // no disk waits for the owner's consent
  'SEED_DISK_CHANGED', // the disk changed since it was shown
  // key release (custodian) and asking for a key (box)
  'SEED_BAD_KEY_REQUEST', // a key request that is not well formed, or for another chain or contract
  'SEED_KEY_REQUEST_STALE', // a key request too old, or from a clock that is off
  'SEED_BAD_SIGNATURE', // a device signature that does not verify
  'SEED_FILM_NOT_PUBLISHED_HERE', // the custodian did not publish that film
  'SEED_CREATOR_NOT_SERVED', // the film's creator is not one this custodian serves
  'SEED_NOT_A_HOLDER', // the owner holds no token of the film (with the confirmations asked)
  'SEED_FILM_KEY_NOT_HELD', // the custodian holds no key of the film
  'SEED_KEY_REQUEST_FAILED', // the box's request to a custodian failed (unreachable, refused)
  // peers and the monitor
  'SEED_BAD_CID', // not a CID
  'SEED_BAD_CHALLENGE', // a proof-of-holding challenge asking more than its version allows
  'SEED_BLOCK_NOT_FOUND', // the block is not held here
  'SEED_QUIET_HOURS', // the box serves no peers now
  'SEED_BAD_DOWNTIME', // a planned downtime window that ends before it starts or lasts too long
  'SEED_BAD_REPORT', // a health report that is malformed
  'SEED_NOT_ADMITTED', // the device is not admitted by the monitor
  'SEED_REPORT_REPLAYED', // a report whose seq is not after the last accepted
  'SEED_NODE_NOT_FOUND', // no node of that id has reported
  // the IPFS Pinning Service API (a storage node's remote pins)
  'SEED_PINNING_TOKEN_REFUSED', // no access token, or one the owner never made or revoked
  'SEED_PINNING_TOKEN_NOT_FOUND', // no access token of that id
  'SEED_PIN_REQUEST_NOT_FOUND', // no pin request of that id
  'SEED_BAD_PIN_QUERY', // a pin listing filter that is not well formed
  'SEED_QUOTA_EXCEEDED' // the storage quota has no room left for another pin
] as const

export type ErrorCode = (typeof ERROR_CODES)[number]

/** An error with a stable code; its message says what is wrong and what to do. */
export class SeedError extends Error {
  override name = 'SeedError'
  readonly code: ErrorCode
  constructor(code: ErrorCode, message: string, options?: ErrorOptions) {
    super(message, options)
    this.code = code
  }
}
