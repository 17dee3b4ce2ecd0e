// The TV UI: status gate (paired or not), hash routes, and the library kept fresh while films prepare.
import { html, render } from 'htm/preact'
import { useCallback, useEffect, useState } from 'preact/hooks'
import { getLibrary, getStatus } from './api.js'
import { startFocusNavigation } from './focus.js'
import { Loading, Message, isPreparing } from './screens/common.js'
import { FilmScreen } from './screens/film.js'
import { LibraryScreen } from './screens/library.js'
import { PlayerScreen } from './screens/player.js'
import { UnpairedScreen } from './screens/unpaired.js'

/** @typedef {import('./api.js').Film} Film */
/** @typedef {import('./api.js').Status} Status */
/** @typedef {{ name: 'library' } | { name: 'film' | 'player', tokenId: string }} Route */

const PREPARING_POLL_MS = 3000
const IDLE_POLL_MS = 30_000
const RETRY_MS = 5000

const libraryHash = '#/'
/** @param {string} tokenId */
const filmHash = tokenId => `#/film/${encodeURIComponent(tokenId)}`
/** @param {string} tokenId */
const playerHash = tokenId => `${filmHash(tokenId)}/play`

/** @param {string} hash @returns {Route} */
function parseRoute(hash) {
  const match = /^#\/film\/([^/]+)(\/play)?$/.exec(hash)
  if (!match) return { name: 'library' }
  try {
    return { name: match[2] ? 'player' : 'film', tokenId: decodeURIComponent(match[1]) }
  } catch {
    return { name: 'library' } // a malformed %-escape typed into the address bar
  }
}

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

/**
 * The owner's films, polled quickly while any is still being prepared and slowly otherwise.
 * A failed refresh keeps the films on screen and retries.
 * @param {boolean} enabled
 */
function useLibrary(enabled) {
  const [films, setFilms] = useState(/** @type {Film[] | null} */ (null))
  const [error, setError] = useState(/** @type {Error | null} */ (null))
  const [attempt, setAttempt] = useState(0)

  useEffect(() => {
    if (!enabled) return
    const controller = new AbortController()
    /** @type {ReturnType<typeof setTimeout> | undefined} */
    let timer
    const load = async () => {
      try {
        const latest = await getLibrary(controller.signal)
        setFilms(latest)
        setError(null)
        timer = setTimeout(load, latest.some(isPreparing) ? PREPARING_POLL_MS : IDLE_POLL_MS)
      } catch (failure) {
        if (controller.signal.aborted) return
        setError(/** @type {Error} */ (failure))
        timer = setTimeout(load, RETRY_MS)
      }
    }
    load()
    return () => {
      controller.abort()
      clearTimeout(timer)
    }
  }, [enabled, attempt])

  const reload = useCallback(() => {
    setFilms(null)
    setError(null)
    setAttempt(count => count + 1)
  }, [])
  return { films, error, reload }
}

/**
 * Status first: nothing else makes sense until the box says whether it is paired.
 * Failures retry by themselves; the error stays on screen (and its Retry button focused) meanwhile.
 */
function useStatus() {
  const [status, setStatus] = useState(/** @type {Status | null} */ (null))
  const [error, setError] = useState(/** @type {Error | null} */ (null))
  const [attempt, setAttempt] = useState(0)
  useEffect(() => {
    const controller = new AbortController()
    /** @type {ReturnType<typeof setTimeout> | undefined} */
    let timer
    const load = () =>
      getStatus(controller.signal).then(setStatus, failure => {
        if (controller.signal.aborted) return
        setError(failure)
        timer = setTimeout(load, RETRY_MS)
      })
    load()
    return () => {
      controller.abort()
      clearTimeout(timer)
    }
  }, [attempt])
  const retry = useCallback(() => setAttempt(count => count + 1), [])
  return { status, error, retry, setStatus }
}

/** @param {{ route: Route, films: Film[] | null, error: Error | null, reload: () => void, owner: string | null, lastTokenId: string | null }} props */
function PairedScreens({ route, films, error, reload, owner, lastTokenId }) {
  if (route.name === 'library') {
    return html`<${LibraryScreen} films=${films} error=${error} onRetry=${reload} owner=${owner} focusTokenId=${lastTokenId} />`
  }
  const toLibrary = () => goBackTo(libraryHash)
  if (!films) {
    return error
      ? html`<${Message}
          title="Your library could not be loaded"
          detail=${error.message}
          actionLabel="Retry"
          onAction=${reload}
          onBack=${toLibrary}
        />`
      : html`<${Loading} label="Loading…" />`
  }
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

function App() {
  const { status, error: statusError, retry, setStatus } = useStatus()
  const paired = status?.paired === true
  const route = useRoute()
  const library = useLibrary(paired)
  const [lastTokenId, setLastTokenId] = useState(/** @type {string | null} */ (null))
  useEffect(() => {
    if (route.name !== 'library') setLastTokenId(route.tokenId)
  }, [route])

  if (!status) {
    return statusError
      ? html`<${Message} title="Seed One is not available" detail=${statusError.message} actionLabel="Retry" onAction=${retry} />`
      : html`<${Loading} label="Starting…" />`
  }
  if (!paired) return html`<${UnpairedScreen} status=${status} onPaired=${setStatus} />`
  return html`<${PairedScreens} route=${route} ...${library} owner=${status.owner} lastTokenId=${lastTokenId} />`
}

startFocusNavigation()
render(html`<${App} />`, /** @type {HTMLElement} */ (document.getElementById('app')))
