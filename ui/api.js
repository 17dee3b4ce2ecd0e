// The box's JSON API, same origin. Every failure becomes an ApiError with a message fit for the screen.
// Requests that change the box carry the owner's session cookie (sent by the browser) and the CSRF token
// from GET /api/session.

/**
 * @typedef {{ deviceId: string, owner: string | null, paired: boolean, chainId: number, syncedBlock: number, version: string }} Status
 * @typedef {{ signedIn: boolean, owner: string | null, csrfToken: string }} Session
 * @typedef {{ paired: boolean, owner: string | null, signedIn: boolean, code?: string, expiresAt?: string, pairUrl?: string, authorisationExpiresAt?: string | null, renewalDue?: boolean }} Pairing
 * @typedef {{ language: string, label: string, url: string }} Subtitle
 * @typedef {{ language?: string, label?: string, codec?: string, channels?: number }} AudioTrack
 * @typedef {'pending' | 'pinning' | 'ready' | 'locked' | 'error'} FilmState
 * @typedef {{ positionSec: number, durationSec: number, watched: boolean, resumable: boolean, updatedAt: string }} Playback
 * @typedef {{
 *   intervalSec: number, columns: number, rows: number, count: number, tileWidth: number, tileHeight: number,
 *   sheets: Array<{ url: string, rows: number }>
 * }} Thumbnails tile n is tile n mod (columns × rows) of sheet floor(n / (columns × rows))
 * @typedef {'none' | 'partial' | 'pinning' | 'ready' | 'releasing'} LocalCopy
 * @typedef {{
 *   tokenId: string, title: string, synopsis: string, durationSeconds: number, year?: number,
 *   contentClass: 'production' | 'test' | 'demo' | 'development', expiresAt: string | null, quantity: string,
 *   tier: { level: number, name: string }, state: FilmState, progress: number, error?: string, playable: boolean,
 *   posterUrl: string, streamUrl: string, subtitles: Subtitle[], audio?: AudioTrack[],
 *   playback: Playback | null, thumbnails: Thumbnails | null,
 *   storage: { local: LocalCopy, networkCopies: number | null }
 * }} Film
 * @typedef {{ state: 'starting' | 'synced' | 'failing', lastSyncAt: string | null, error: string | null, failingSince: string | null }} ChainSync
 * @typedef {{ films: Film[], continueWatching: string[], chainSync: ChainSync | null }} Library
 * @typedef {{
 *   storageQuotaBytes: number,
 *   replication: { enabled: boolean, uploadCapBytesPerSec: number, quietHours: { start: string, end: string } | null },
 *   developerMode: boolean
 * }} DeviceSettings
 * @typedef {{
 *   at: string,
 *   cpu: { loadPercent: number, load1: number, cores: number, temperatureC: number | null, throttled: number | null },
 *   memory: { totalBytes: number, usedBytes: number, availableBytes: number },
 *   disk: { totalBytes: number, usedBytes: number, freeBytes: number },
 *   network: { rxBytes: number, txBytes: number }
 * }} SystemStats one reading of the box (server/health/system-stats.ts)
 */

const TIMEOUT_MS = 10_000

export class ApiError extends Error {
  /**
   * @param {string} message
   * @param {number | undefined} status HTTP status, undefined when the box was not reached
   * @param {string} [code] the refusal's stable code (server/lib/errors.ts, or a Fastify one), when the box sent one
   */
  constructor(message, status, code) {
    super(message)
    this.name = 'ApiError'
    this.status = status
    this.code = code
  }
}

/** Whether the box refused the CSRF token: @fastify/csrf-protection's codes (FST_CSRF_INVALID_TOKEN, FST_CSRF_MISSING_SECRET). @param {unknown} error */
const csrfRefused = error => error instanceof ApiError && typeof error.code === 'string' && error.code.startsWith('FST_CSRF_')

/** The CSRF token of this browser's session, fetched with the session and again when the box refuses it. */
let csrfToken = ''

/**
 * One request to the box. JSON in, JSON out (undefined for an empty answer).
 * @param {string} method
 * @param {string} path
 * @param {{ body?: unknown, signal?: AbortSignal, keepalive?: boolean }} [opts]
 * @returns {Promise<any>}
 */
async function request(method, path, { body, signal, keepalive } = {}) {
  // AbortController + setTimeout rather than AbortSignal.any/timeout: TV browsers run old Chromium.
  const controller = new AbortController()
  let timedOut = false
  const timer = setTimeout(() => {
    timedOut = true
    controller.abort()
  }, TIMEOUT_MS)
  const cancel = () => controller.abort()
  signal?.addEventListener('abort', cancel)
  /** @type {Record<string, string>} */
  const headers = { accept: 'application/json' }
  if (method !== 'GET') headers['x-csrf-token'] = csrfToken
  if (body !== undefined) headers['content-type'] = 'application/json'
  try {
    let response
    try {
      response = await fetch(path, {
        method,
        headers,
        body: body === undefined ? undefined : JSON.stringify(body),
        credentials: 'same-origin',
        cache: 'no-store',
        keepalive,
        signal: controller.signal
      })
    } catch (error) {
      if (signal?.aborted) throw error
      // Old engines (Chromium 68 among them) refuse a keepalive request that is not CORS-safelisted (a PUT,
      // the CSRF header): send it plainly. It arrives unless the page is already gone, and then the player's
      // save every few seconds has kept all but those seconds.
      if (keepalive && !timedOut) return await request(method, path, { body, signal })
      throw new ApiError(timedOut ? 'Seed One took too long to answer.' : 'Seed One cannot be reached.', undefined)
    }
    const text = await response.text().catch(() => '')
    let json
    try {
      json = text === '' ? undefined : JSON.parse(text)
    } catch {
      if (response.ok) throw new ApiError('Seed One sent an answer this screen cannot read.', response.status)
    }
    if (!response.ok) {
      const reason = typeof json?.message === 'string' ? json.message : `HTTP ${response.status}`
      throw new ApiError(`Seed One refused: ${reason}`, response.status, typeof json?.code === 'string' ? json.code : undefined)
    }
    return json
  } finally {
    clearTimeout(timer)
    signal?.removeEventListener('abort', cancel)
  }
}

/**
 * A state-changing request; a refused CSRF token (the box restarted, or the session changed) is
 * fetched again once.
 * @param {string} method
 * @param {string} path
 * @param {{ body?: unknown, keepalive?: boolean }} [opts]
 */
async function change(method, path, opts = {}) {
  if (csrfToken === '') await getSession()
  try {
    return await request(method, path, opts)
  } catch (error) {
    if (!csrfRefused(error)) throw error
    await getSession()
    return await request(method, path, opts)
  }
}

/** @param {AbortSignal} [signal] @returns {Promise<Status>} */
export const getStatus = signal => request('GET', '/api/status', { signal })

/** @param {AbortSignal} [signal] @returns {Promise<Session>} */
export async function getSession(signal) {
  const session = await request('GET', '/api/session', { signal })
  if (typeof session?.signedIn !== 'boolean') throw new ApiError('Seed One sent a session this screen cannot read.', 200)
  csrfToken = typeof session.csrfToken === 'string' ? session.csrfToken : ''
  return session
}

/**
 * @param {AbortSignal} [signal]
 * @param {boolean} [renew] the owner's TV asks for a code to renew the box's authorisation with
 * @returns {Promise<Pairing>}
 */
export async function getPairing(signal, renew = false) {
  const pairing = await request('GET', renew ? '/api/pairing?renew=1' : '/api/pairing', { signal })
  if (typeof pairing?.signedIn !== 'boolean') throw new ApiError('Seed One sent a pairing state this screen cannot read.', 200)
  return pairing
}

/** @param {string} address @param {string} code @returns {Promise<string>} the EIP-4361 message to sign */
export async function getPairingMessage(address, code) {
  const answer = await request('GET', `/api/pairing/message?${new URLSearchParams({ address, code })}`)
  if (typeof answer?.message !== 'string') throw new ApiError('Seed One sent no message to sign.', 200)
  return answer.message
}

/** Sends the owner's signature: pairs the box (or signs in to it) and signs this browser in. */
export const postPairing = (/** @type {string} */ message, /** @type {string} */ signature) =>
  request('POST', '/api/pairing', { body: { message, signature } })

export const unpair = () => change('DELETE', '/api/pairing')

/** @param {string} address @param {string} device @returns {Promise<string>} the revocation message to sign */
export async function getRevocationMessage(address, device) {
  const answer = await request('GET', `/api/pairing/revocation-message?${new URLSearchParams({ address, device })}`)
  if (typeof answer?.message !== 'string') throw new ApiError('Seed One sent no message to sign.', 200)
  return answer.message
}

/**
 * Sends the owner's signed revocation; the box relays it to the custodians of the owner's films.
 * @returns {Promise<{ deviceId: string, revokedAt: string, deliveries: Array<{ custodianUrl: string, delivered: boolean, error?: string }> }>}
 */
export const postRevocation = (/** @type {string} */ message, /** @type {string} */ signature) =>
  request('POST', '/api/pairing/revocations', { body: { message, signature } })

/** @param {AbortSignal} [signal] @returns {Promise<Library>} */
export async function getLibrary(signal) {
  const body = await request('GET', '/api/library', { signal })
  if (!Array.isArray(body?.films)) throw new ApiError('Seed One sent a library this screen cannot read.', 200)
  return {
    films: body.films,
    continueWatching: Array.isArray(body.continueWatching) ? body.continueWatching : [],
    chainSync: body.chainSync ?? null
  }
}

/**
 * Saves where the owner is in a film. keepalive lets the last save outlive the page.
 * @param {string} tokenId
 * @param {{ positionSec: number, durationSec: number }} position
 * @param {{ keepalive?: boolean }} [opts]
 */
export const putPlayback = (tokenId, position, opts = {}) =>
  change('PUT', `/api/playback/${encodeURIComponent(tokenId)}`, { body: position, ...opts })

/** @param {AbortSignal} [signal] @returns {Promise<DeviceSettings & Record<string, unknown>>} */
export const getSettings = signal => request('GET', '/api/settings', { signal })

/** @param {DeviceSettings} settings the full document */
export const putSettings = settings => change('PUT', '/api/settings', { body: settings })

/** @param {AbortSignal} [signal] @returns {Promise<{ samples: SystemStats[] }>} */
export async function getHealthHistory(signal) {
  const body = await request('GET', '/api/health/history', { signal })
  if (!Array.isArray(body?.samples)) throw new ApiError('Seed One sent a health history this screen cannot read.', 200)
  return body
}

/**
 * @typedef {{ name: string, sizeBytes: number, fstype: string | null, label: string | null }} DiskPartition
 * @typedef {{ id: string, path: string, model: string | null, serial: string | null, sizeBytes: number, fstype: string | null, label: string | null, partitions: DiskPartition[] }} DataDisk
 * @typedef {{ state: 'none' | 'ready' | 'pending' | 'applying' | 'declined' | 'failed', disk: DataDisk | null, message: string, updatedAt: string | null }} DiskConsent
 */

/** The first boot's data disk, when it found one holding data. @param {AbortSignal} [signal] @returns {Promise<DiskConsent>} */
export const getDiskConsent = signal => request('GET', '/api/appliance/disk-consent', { signal })

/** The owner's decision about that disk. @param {'erase' | 'keep'} decision @param {string} diskId @returns {Promise<DiskConsent>} */
export const decideDisk = (decision, diskId) => change('POST', '/api/appliance/disk-consent', { body: { decision, diskId } })
