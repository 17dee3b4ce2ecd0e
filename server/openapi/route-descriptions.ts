// What each route of a box is for, as the OpenAPI description says it: a one-line summary and the
// sequence or rule a client must know (who may call it, what comes before and after). Kept here, beside
// the generator, so the route modules stay about behaviour; test/openapi.test.ts fails on a route of a
// box with every role that has no entry, and on an entry that names no route.

export interface RouteDescription {
  summary: string
  description: string
}

const OWNER = 'Needs the owner session cookie and, for a state change, the CSRF token (x-csrf-token, from GET /api/session).'
const SIGNED_IN = 'Needs a signed-in screen: the owner session cookie.'
const PINNING = 'Needs a pinning access token the owner made (POST /api/pinning/tokens): "Authorization: Bearer <token>".'

/** Keyed by `METHOD /path` as Fastify declares it (`:param`); a GET and HEAD route by its GET. */
export const ROUTE_DESCRIPTIONS: Record<string, RouteDescription> = {
  'POST /api/custody/film-keys': {
    summary: "A film's content key, wrapped to the asking device",
    description:
      "Custodian. A box asks for the key of a film its owner holds: the owner's signed authorisation of the device, the device's signature of the request, and balanceOf on chain are checked; the key comes back wrapped to the device's X25519 key. Only for films this custodian published, for creators it serves."
  },
  'POST /api/custody/revocations': {
    summary: "Record an owner's revocation of a device",
    description:
      'Custodian. A signed revocation (from POST /api/pairing/revocations on a box): the custodian releases no more keys to that device.'
  },
  'GET /api/session': {
    summary: 'This browser’s owner session and its CSRF token',
    description:
      'Whether this browser is signed in as the owner, and the CSRF token to send as x-csrf-token on every state-changing request.'
  },
  'GET /api/session/sign-in': {
    summary: 'Sign this browser in with a one-time link',
    description:
      'The link `seed-one demo` prints (?token=…): works once, signs the browser in as the devnet owner, then redirects to the TV UI.'
  },
  'GET /api/pairing': {
    summary: 'Pairing step 1 (TV): pairing state and a code to sign',
    description:
      'Whether the box is paired and this browser signed in; if not, a pairing code (with its expiry and the phone URL, also as GET /api/pairing/qr.svg) tied to this browser by a cookie. ?renew=1: a signed-in TV asks for a code to renew the authorisation. Then step 2: GET /api/pairing/message on the phone.'
  },
  'POST /api/pairing': {
    summary: 'Pairing step 3 (phone): send the signed message',
    description:
      'The EIP-4361 message of GET /api/pairing/message and the owner wallet’s signature of it (EIP-1271 contract wallets too). A first pairing makes that wallet the owner; the TV that showed the code and this browser are signed in. Rate-limited per address.'
  },
  'DELETE /api/pairing': {
    summary: 'Unpair the box',
    description: `Forgets the owner, its authorisation and library; the box shows a new pairing code. ${OWNER}`
  },
  'GET /api/pairing/qr.svg': {
    summary: 'The pairing code as a QR code',
    description: 'An SVG QR code of the phone URL for this browser’s code (or ?code=): the phone opens /pair with the code filled in.'
  },
  'GET /api/pairing/message': {
    summary: 'Pairing step 2 (phone): the message to sign',
    description:
      'The EIP-4361 message naming this device and ?code= (the code the TV shows) for the wallet ?address= to sign; then POST /api/pairing with it and the signature. Rate-limited per address.'
  },
  'GET /api/pairing/revocation-message': {
    summary: 'The message that revokes a device',
    description: `The message the owner's wallet signs to revoke a device it authorised; then POST /api/pairing/revocations. ${OWNER}`
  },
  'POST /api/pairing/revocations': {
    summary: 'Revoke a device',
    description: `The signed revocation, kept by the box and sent to each custodian (the answer says which have it). ${OWNER}`
  },
  'GET /api/settings': {
    summary: "The owner's settings",
    description: 'Replica quota, replication on or off, upload cap, quiet hours, developer mode.'
  },
  'PUT /api/settings': { summary: "Change the owner's settings", description: `The whole settings object, validated. ${OWNER}` },
  'GET /api/library': {
    summary: "The owner's films and their state",
    description: `Each film the owner's wallet holds: metadata, rights tier, state (pinning, ready, locked when sold), playback position. ${SIGNED_IN}`
  },
  'PUT /api/playback/:tokenId': {
    summary: 'Save the playback position of a film',
    description: `Position and duration in seconds; resume follows Jellyfin's rules. ${OWNER}`
  },
  'GET /api/library/events': {
    summary: 'Library changes as server-sent events',
    description: `An event stream of library changes (a film bought, ready, sold), so screens need not poll. ${SIGNED_IN}`
  },
  'GET /api/films/:tokenId/stream': {
    summary: 'Play a film: decrypted bytes, with Range (HEAD: headers only)',
    description: `The film's plaintext, decrypted on the box from its sealed blocks; Range requests answer 206. A film still pinning plays at once (504 when its blocks do not arrive in time); a sale cuts the stream. ${SIGNED_IN}`
  },
  'GET /api/films/:tokenId/renditions/:role/stream': {
    summary: 'Play one rendition of a film: decrypted bytes, with Range (HEAD: headers only)',
    description: `The film's rendition :role (original: the source's HEVC, HDR kept; sdr: H.264, the same bytes as /stream; low: H.264 for weak links), as its metadata lists them, decrypted and served as /stream is; 404 SEED_FILM_ASSET_NOT_FOUND for a role the film does not have. ${SIGNED_IN}`
  },
  'GET /api/films/:tokenId/renditions/subtitled/:index/stream': {
    summary: "Play the film's version with a picture subtitle stream burned in (HEAD: headers only)",
    description: `The film's subtitled rendition of picture subtitle stream :index (PGS, DVD, DVB; of its metadata's imageSubtitles): H.264 as the sdr rendition, the subtitles drawn into the picture, served as /stream is; 404 SEED_FILM_ASSET_NOT_FOUND for a stream publish made no such version of. ${SIGNED_IN}`
  },
  'GET /api/films/:tokenId/hls/master.m3u8': {
    summary: "HLS master playlist of a film's fragmented renditions",
    description: `One variant a fragmented rendition but the subtitled ones (or those named in ?roles=, comma-separated), the lightest first, with CODECS, RESOLUTION, BANDWIDTH (the peak over its fragments) and VIDEO-RANGE; 404 SEED_FILM_ASSET_NOT_FOUND for a film without fragmented renditions. No-store. ${SIGNED_IN}`
  },
  'GET /api/films/:tokenId/hls/:role.m3u8': {
    summary: 'HLS media playlist of one rendition: byte ranges of its decrypted stream',
    description: `The rendition's fragments, read from the sidx at the front of its decrypted stream, as EXT-X-BYTERANGE segments of /api/films/:tokenId/renditions/:role/stream (its ftyp and moov the EXT-X-MAP): nothing new is stored. 404 for a role the film lacks or that is not fragmented. No-store. ${SIGNED_IN}`
  },
  'GET /api/films/:tokenId/poster': { summary: "A film's poster", description: `The decrypted poster image. ${SIGNED_IN}` },
  'GET /api/films/:tokenId/subtitles/:index': {
    summary: 'A subtitle track as WebVTT',
    description: `Track :index of the film's metadata, decrypted. ${SIGNED_IN}`
  },
  'GET /api/films/:tokenId/chapters': {
    summary: "A film's chapters as WebVTT",
    description: `The chapters track (a cue per chapter, its title as text), decrypted; 404 for a film published without chapters. ${SIGNED_IN}`
  },
  'GET /api/films/:tokenId/thumbnails/:index': {
    summary: 'A seek-thumbnail sheet',
    description: `Sheet :index (JPEG) of the film's seek thumbnails: tiles of a frame every 10 s, laid out as its metadata says. ${SIGNED_IN}`
  },
  'GET /api/films/:tokenId/thumbnails': {
    summary: 'The one thumbnail sheet of an older film',
    description: `Films published before sheets were split have one sheet, still answered here; others answer 404 naming /thumbnails/:n. ${SIGNED_IN}`
  },
  'GET /api/health/history': {
    summary: "The box's health history",
    description: 'The system samples the box keeps for its Health screen (read-only, so guests may see it).'
  },
  'GET /pair': {
    summary: "The phone's pairing page",
    description:
      'Opened from the QR code: signs the pairing message with an injected wallet (or a pasted signature) once the owner confirms the code their TV shows.'
  },
  'GET /': { summary: 'The TV UI', description: 'The built TV user interface: home, film, player, pairing, settings and health screens.' },
  'GET /api/appliance/disk-consent': {
    summary: 'The data disk waiting for consent',
    description: 'First boot on the image: the USB disk found and what preparing it would erase. Once paired, only the owner.'
  },
  'POST /api/appliance/disk-consent': {
    summary: 'Consent to prepare (erase) the data disk, or refuse',
    description:
      'The decision for the disk GET showed (its id): the box prepares it and moves its data onto it. Once paired, only the owner, with the CSRF token.'
  },
  'GET /api/pinning/pins': {
    summary: 'List pin requests (IPFS Pinning Service API)',
    description: `Filtered by cid, name, status, before/after, as the spec says. ${PINNING}`
  },
  'POST /api/pinning/pins': {
    summary: 'Ask the storage node to pin a CID',
    description: `Queued and pinned within the replicas' quota, never in quiet hours. ${PINNING}`
  },
  'GET /api/pinning/pins/:requestid': {
    summary: 'One pin request',
    description: `Its status: queued, pinning, pinned or failed. ${PINNING}`
  },
  'POST /api/pinning/pins/:requestid': { summary: 'Replace a pin request', description: `A new pin in place of the old one. ${PINNING}` },
  'DELETE /api/pinning/pins/:requestid': { summary: 'Remove a pin request', description: `Its blocks are released. ${PINNING}` },
  'GET /api/pinning/tokens': {
    summary: 'The pinning access tokens',
    description: `Their ids and names (the tokens themselves are shown once, at creation). ${OWNER}`
  },
  'POST /api/pinning/tokens': {
    summary: 'Make a pinning access token',
    description: `Shown once; the box keeps only its SHA-256. ${OWNER}`
  },
  'DELETE /api/pinning/tokens/:id': { summary: 'Revoke a pinning access token', description: OWNER },
  'GET /api/storage/blocks/:cid': {
    summary: 'A block this box holds, for peers',
    description:
      'The raw bytes of a block the box holds (404 SEED_BLOCK_NOT_FOUND when it does not: a routine answer), within its quiet hours and upload cap. Peers check each block against its CID.'
  },
  'POST /api/storage/challenge': {
    summary: 'Answer a proof-of-holding challenge',
    description:
      'The monitor names leaf blocks of a CID the box claims to hold; the box answers with them, within a deadline, to prove it holds them.'
  },
  'GET /api/identity': {
    summary: "The device's identity, signed",
    description:
      "The device id (libp2p peer id) and the URL it reports, with ?nonce= signed by the device key: the monitor checks that a node's apiUrl answers for its key."
  },
  'GET /metrics': { summary: 'Prometheus metrics', description: "The box's system and service figures in the Prometheus text format." },
  'GET /api/status': {
    summary: "The box's version, roles and state",
    description:
      "Version, device, roles, chain and pairing state; the owner and the library's sync only to the owner's screens. The TV apps find a box by it."
  }
}
