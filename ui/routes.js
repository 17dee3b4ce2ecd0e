// The TV UI's hash routes: home, a film's page, its player (optionally from a position), settings,
// health, signing this TV in, and renewing the box's pairing.

/**
 * @typedef {{ name: 'home' | 'settings' | 'health' | 'sign-in' | 'renew' }
 *   | { name: 'film', tokenId: string }
 *   | { name: 'player', tokenId: string, startAt: number }} Route
 */

export const homeHash = '#/'
export const settingsHash = '#/settings'
export const healthHash = '#/health'
export const signInHash = '#/sign-in'
export const renewHash = '#/renew'
/** @param {string} tokenId */
export const filmHash = tokenId => `#/film/${encodeURIComponent(tokenId)}`
/** @param {string} tokenId @param {number} [startAt] seconds into the film; from the start when left out */
export const playerHash = (tokenId, startAt = 0) => `${filmHash(tokenId)}/play${startAt > 0 ? `?t=${Math.floor(startAt)}` : ''}`

const NAMED = new Map([
  [settingsHash, 'settings'],
  [healthHash, 'health'],
  [signInHash, 'sign-in'],
  [renewHash, 'renew']
])

/** @param {string} hash @returns {Route} */
export function parseRoute(hash) {
  const named = NAMED.get(hash)
  if (named) return /** @type {Route} */ ({ name: named })
  const match = /^#\/film\/([^/?]+)(\/play(?:\?t=(\d+))?)?$/.exec(hash)
  if (!match) return { name: 'home' }
  let tokenId
  try {
    tokenId = decodeURIComponent(match[1])
  } catch {
    return { name: 'home' } // a malformed %-escape typed into the address bar
  }
  return match[2] ? { name: 'player', tokenId, startAt: Number(match[3] ?? 0) } : { name: 'film', tokenId }
}
