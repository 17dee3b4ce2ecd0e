// The box's JSON API, same origin. Every failure becomes an ApiError with a message fit for the screen.
// Requests that change the box carry the owner's session cookie (sent by the browser) and the CSRF token
// from GET /api/session.

/**
 * The box's answers, as the server types them (the UI keeps no copies of its own).
 * @typedef {import('../server/status/routes.ts').DaemonStatus} Status GET /api/status
 * @typedef {import('../server/pairing/owner-session.ts').SessionView} Session GET /api/session
 * @typedef {import('../server/pairing/routes.ts').PairingState} Pairing GET /api/pairing
 * @typedef {import('../server/library/routes.ts').LibraryFilmView} Film one film of GET /api/library
 * @typedef {import('../server/library/playback.ts').PlaybackView} Playback
 * @typedef {NonNullable<Film['thumbnails']>} Thumbnails tile n is tile n mod (columns × rows) of sheet floor(n / (columns × rows))
 * @typedef {import('../server/chain/sync-status.ts').ChainSyncView} ChainSync
 * @typedef {import('../server/library/routes.ts').LibraryView} Library GET /api/library
 * @typedef {import('../server/settings/settings.ts').DeviceSettings} DeviceSettings GET /api/settings
 * @typedef {import('../server/wire/monitor-protocol.ts').SystemStats} SystemStats one reading of the box
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
 * @returns {Promise<import('../server/pairing/revocation-routes.ts').RevocationRelayed>}
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

/** @param {AbortSignal} [signal] @returns {Promise<import('../server/health/history-routes.ts').HealthHistoryView>} */
export async function getHealthHistory(signal) {
  const body = await request('GET', '/api/health/history', { signal })
  if (!Array.isArray(body?.samples)) throw new ApiError('Seed One sent a health history this screen cannot read.', 200)
  return body
}

/**
 * @typedef {import('../server/appliance/disk-consent.ts').DataDisk} DataDisk
 * @typedef {import('../server/appliance/disk-consent.ts').DiskConsentView} DiskConsent GET /api/appliance/disk-consent
 */

/** The first boot's data disk, when it found one holding data. @param {AbortSignal} [signal] @returns {Promise<DiskConsent>} */
export const getDiskConsent = signal => request('GET', '/api/appliance/disk-consent', { signal })

/** The owner's decision about that disk. @param {'erase' | 'keep'} decision @param {string} diskId @returns {Promise<DiskConsent>} */
export const decideDisk = (decision, diskId) => change('POST', '/api/appliance/disk-consent', { body: { decision, diskId } })
