// The TV UI: status gate (paired or not), hash routes, and the library kept fresh while films prepare.
import { html, render } from 'htm/preact'
import { useEffect, useState } from 'preact/hooks'
import { getLibrary, getStatus } from './api.js'
import { startFocusNavigation } from './focus.js'
import { usePolling } from './polling.js'
import { filmHash, libraryHash, parseRoute, playerHash } from './routes.js'
import { LibraryLoading, Loading, Message, isPreparing } from './screens/common.js'
import { FilmScreen } from './screens/film.js'
import { LibraryScreen } from './screens/library.js'
import { PlayerScreen } from './screens/player.js'
import { UnpairedScreen } from './screens/unpaired.js'

/** @typedef {import('./api.js').Film} Film */
/** @typedef {import('./api.js').Status} Status */
/** @typedef {import('./routes.js').Route} Route */

const UNPAIRED_POLL_MS = 3000
const PREPARING_POLL_MS = 3000
const IDLE_POLL_MS = 30_000

/** Status is watched until the box is paired: the owner does it from a phone while this screen waits. */
const statusPollDelay = (/** @type {Status} */ status) => (status.paired ? undefined : UNPAIRED_POLL_MS)
/** The library is refreshed quickly while any film is still being prepared, slowly otherwise. */
const libraryPollDelay = (/** @type {Film[]} */ films) => (films.some(isPreparing) ? PREPARING_POLL_MS : IDLE_POLL_MS)

// The hashes visited inside this page, so Back can return through history when the parent screen
// is the previous entry, and replace the current entry otherwise (a TV opened straight on a film).
const visited = [location.hash || libraryHash]

addEventListener('hashchange', () => {
  const hash = location.hash || libraryHash
  if (hash === visited[visited.length - 1]) return
  if (hash === visited[visited.length - 2]) visited.pop()
  else visited.push(hash)
})

/** @param {string} hash */
function navigate(hash) {
  location.hash = hash
}

/** @param {string} parentHash */
function goBackTo(parentHash) {
  if (visited[visited.length - 2] === parentHash) {
    history.back()
  } else {
    visited[visited.length - 1] = parentHash
    location.replace(parentHash)
  }
}

function useRoute() {
  const [route, setRoute] = useState(() => parseRoute(location.hash))
  useEffect(() => {
    const update = () => setRoute(parseRoute(location.hash))
    addEventListener('hashchange', update)
    return () => removeEventListener('hashchange', update)
  }, [])
  return route
}

/** @param {{ route: Route, films: Film[] | null, error: Error | null, reload: () => void, owner: string | null, lastTokenId: string | null }} props */
function PairedScreens({ route, films, error, reload, owner, lastTokenId }) {
  if (route.name === 'library') {
    return html`<${LibraryScreen} films=${films} error=${error} onRetry=${reload} owner=${owner} focusTokenId=${lastTokenId} />`
  }
  const toLibrary = () => goBackTo(libraryHash)
  if (!films) return html`<${LibraryLoading} error=${error} onRetry=${reload} onBack=${toLibrary} />`
  const film = films.find(candidate => candidate.tokenId === route.tokenId)
  if (!film) {
    return html`<${Message}
      title="This film is not in your library"
      detail="It may have been sold or transferred."
      actionLabel="Back to library"
      onAction=${toLibrary}
      onBack=${toLibrary}
    />`
  }
  if (route.name === 'film') {
    return html`<${FilmScreen} key=${film.tokenId} film=${film} onPlay=${() => navigate(playerHash(film.tokenId))} onBack=${toLibrary} />`
  }
  const toFilm = () => goBackTo(filmHash(film.tokenId))
  if (film.state !== 'ready') {
    return html`<${Message}
      title=${`${film.title} cannot be played now`}
      detail="Open the film page to see why."
      actionLabel="Back"
      onAction=${toFilm}
      onBack=${toFilm}
    />`
  }
  return html`<${PlayerScreen} key=${film.tokenId} film=${film} onBack=${toFilm} />`
}

// Status first: nothing else makes sense until the box says whether it is paired.
function App() {
  const { value: status, error: statusError, retry } = usePolling(getStatus, statusPollDelay, true)
  const paired = status?.paired === true
  const route = useRoute()
  const library = usePolling(getLibrary, libraryPollDelay, paired)
  const [lastTokenId, setLastTokenId] = useState(/** @type {string | null} */ (null))
  useEffect(() => {
    if (route.name !== 'library') setLastTokenId(route.tokenId)
  }, [route])

  if (!status) {
    return statusError
      ? html`<${Message} title="Seed One is not available" detail=${statusError.message} actionLabel="Retry" onAction=${retry} />`
      : html`<${Loading} label="Starting…" />`
  }
  if (!paired) return html`<${UnpairedScreen} status=${status} />`
  return html`<${PairedScreens}
    route=${route}
    films=${library.value}
    error=${library.error}
    reload=${library.retry}
    owner=${status.owner}
    lastTokenId=${lastTokenId}
  />`
}

startFocusNavigation()
render(html`<${App} />`, /** @type {HTMLElement} */ (document.getElementById('app')))
