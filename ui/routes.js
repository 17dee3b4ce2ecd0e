// The TV UI's hash routes: the library, a film's page, and its player.

/** @typedef {{ name: 'library' } | { name: 'film' | 'player', tokenId: string }} Route */

export const libraryHash = '#/'
/** @param {string} tokenId */
export const filmHash = tokenId => `#/film/${encodeURIComponent(tokenId)}`
/** @param {string} tokenId */
export const playerHash = tokenId => `${filmHash(tokenId)}/play`

/** @param {string} hash @returns {Route} */
export function parseRoute(hash) {
  const match = /^#\/film\/([^/]+)(\/play)?$/.exec(hash)
  if (!match) return { name: 'library' }
  try {
    return { name: match[2] ? 'player' : 'film', tokenId: decodeURIComponent(match[1]) }
  } catch {
    return { name: 'library' } // a malformed %-escape typed into the address bar
  }
}
