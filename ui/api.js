// The daemon's JSON API, same origin. Every failure becomes an ApiError with a message fit for the screen.

/**
 * @typedef {{ deviceId: string, owner: string | null, paired: boolean, chainId: number, syncedBlock: number, version: string }} Status
 * @typedef {{ code: string, expiresAt: string }} Pairing
 * @typedef {{ language: string, label: string, url: string }} Subtitle
 * @typedef {'pending' | 'pinning' | 'ready' | 'locked' | 'error'} FilmState
 * @typedef {{
 *   tokenId: string, title: string, synopsis: string, durationSeconds: number,
 *   contentClass: 'production' | 'test' | 'demo' | 'development', quantity: string,
 *   tier: { level: number, name: string }, state: FilmState, progress: number, error?: string,
 *   posterUrl: string, streamUrl: string, subtitles: Subtitle[]
 * }} Film
 */

const TIMEOUT_MS = 10_000

export class ApiError extends Error {
  /**
   * @param {string} message
   * @param {number | undefined} status HTTP status, undefined when the box was not reached
   */
  constructor(message, status) {
    super(message)
    this.name = 'ApiError'
    this.status = status
  }
}

/**
 * @param {string} path
 * @param {AbortSignal} [signal] cancels the request (a screen that went away)
 * @returns {Promise<any>}
 */
async function getJson(path, signal) {
  // AbortController + setTimeout rather than AbortSignal.any/timeout: TV browsers run old Chromium.
  const controller = new AbortController()
  let timedOut = false
  const timer = setTimeout(() => {
    timedOut = true
    controller.abort()
  }, TIMEOUT_MS)
  const cancel = () => controller.abort()
  signal?.addEventListener('abort', cancel)
  try {
    let response
    try {
      response = await fetch(path, { headers: { accept: 'application/json' }, cache: 'no-store', signal: controller.signal })
    } catch (error) {
      if (signal?.aborted) throw error
      throw new ApiError(timedOut ? 'Seed One took too long to answer.' : 'Seed One cannot be reached.', undefined)
    }
    if (!response.ok) throw new ApiError(`Seed One answered with an error (HTTP ${response.status}).`, response.status)
    try {
      return await response.json()
    } catch (error) {
      if (signal?.aborted) throw error
      throw new ApiError('Seed One sent an answer this screen cannot read.', response.status)
    }
  } finally {
    clearTimeout(timer)
    signal?.removeEventListener('abort', cancel)
  }
}

/** @param {AbortSignal} [signal] @returns {Promise<Status>} */
export const getStatus = signal => getJson('/api/status', signal)

/** @param {AbortSignal} [signal] @returns {Promise<Pairing>} */
export async function getPairing(signal) {
  const body = await getJson('/api/pairing', signal)
  // A box paired a moment ago answers without a code; the status poll moves the screen on.
  if (typeof body?.code !== 'string' || typeof body.expiresAt !== 'string') throw new ApiError('Seed One sent no pairing code.', 200)
  return { code: body.code, expiresAt: body.expiresAt }
}

/** @param {AbortSignal} [signal] @returns {Promise<Film[]>} */
export async function getLibrary(signal) {
  const body = await getJson('/api/library', signal)
  if (!Array.isArray(body?.films)) throw new ApiError('Seed One sent a library this screen cannot read.', 200)
  return body.films
}
