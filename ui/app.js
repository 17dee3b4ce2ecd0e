// The TV UI: the box's status and this browser's session decide what can be shown (pairing, or the
// owner's screens; a guest on a paired box sees no films, only a way to sign in, and settings read-only),
// hash routes pick the screen, and the library is kept fresh while films prepare.
import { html, render } from 'htm/preact'
import { useEffect, useRef, useState } from 'preact/hooks'
import { ApiError, getDiskConsent, getLibrary, getSession, getStatus } from './api.js'
import { startFocusNavigation } from './focus.js'
import { usePolling } from './polling.js'
import { filmHash, homeHash, parseRoute, playerHash, settingsHash, signInHash } from './routes.js'
import { isPreparing } from './format.js'
import { Loading, MessageScreen } from './components/common.js'
import { FilmScreen } from './screens/film.js'
import { DiskConsentScreen } from './screens/disk-consent.js'
import { HealthScreen } from './screens/health.js'
import { HomeScreen } from './screens/home.js'
import { PairingScreen } from './screens/pairing.js'
import { PlayerScreen } from './screens/player.js'
import { SettingsScreen } from './screens/settings.js'

/** @typedef {import('./api.js').Library} Library */
/** @typedef {import('./api.js').Status} Status */
/** @typedef {import('./routes.js').Route} Route */

const PAIRED_POLL_MS = 30_000
const PREPARING_POLL_MS = 3000
/** Another box's copy shows within this, and a sale or a purchase even with the library's events cut off. */
const IDLE_POLL_MS = 10_000

/**
 * A paired box's status is read now and then (it may be unpaired elsewhere). An unpaired box is watched
 * by the pairing screen instead: its poll is what signs this TV in when its code is signed.
 */
const statusPollDelay = (/** @type {Status} */ status) => (status.paired ? PAIRED_POLL_MS : undefined)
/** The session is read once, and again when pairing or unpairing changes it. */
const sessionPollDelay = () => undefined
/**
 * The first boot's data disk decision, if this browser has one to make: a guest on a paired box may not
 * see it (401), and a box without the appliance part has no such route (404); neither has anything to decide.
 * @param {AbortSignal} signal
 * @returns {Promise<import('./api.js').DiskConsent>}
 */
async function loadDiskConsent(signal) {
  try {
    return await getDiskConsent(signal)
  } catch (error) {
    if (error instanceof ApiError && (error.status === 401 || error.status === 404))
      return { state: 'none', disk: null, message: '', updatedAt: null }
    throw error
  }
}
/** A disk waiting for the owner's decision is watched (it may be decided elsewhere), and one being prepared closely. */
const DISK_POLL_MS = { pending: 10_000, applying: 2000, failed: 10_000 }
const diskPollDelay = (/** @type {import('./api.js').DiskConsent} */ consent) =>
  DISK_POLL_MS[/** @type {keyof typeof DISK_POLL_MS} */ (consent.state)]
/**
 * The library is refreshed quickly while it is empty (just paired: the box is still reading the chain)
 * or any film is still being prepared, slowly otherwise.
 */
const libraryPollDelay = (/** @type {Library} */ library) =>
  library.films.length === 0 || library.films.some(isPreparing) ? PREPARING_POLL_MS : IDLE_POLL_MS

// The hashes visited inside this page, so Back can return through history when the parent screen
// is the previous entry, and replace the current entry otherwise (a TV opened straight on a film).
const visited = [location.hash || homeHash]

addEventListener('hashchange', () => {
  const hash = location.hash || homeHash
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

const toHome = () => goBackTo(homeHash)

function useRoute() {
  const [route, setRoute] = useState(() => parseRoute(location.hash))
  useEffect(() => {
    const update = () => setRoute(parseRoute(location.hash))
    addEventListener('hashchange', update)
    return () => removeEventListener('hashchange', update)
  }, [])
  return route
}

/** @param {{ label: string }} props */
const LoadingScreen = ({ label }) => html`<main class="screen" data-screen="loading"><${Loading} label=${label} /></main>`

/** Moves on to `to` (a screen reached that has nothing to do now), holding focus meanwhile. @param {{ to: string }} props */
function Redirect({ to }) {
  useEffect(() => goBackTo(to), [])
  return html`<${LoadingScreen} label="One moment…" />`
}

/**
 * A film's page or its player, once the library has answered.
 * @param {{ route: Route & { tokenId: string }, library: ReturnType<typeof usePolling<Library>> }} props
 */
function FilmRoutes({ route, library }) {
  if (!library.value) {
    return library.error
      ? html`<${MessageScreen}
          screen="film-error"
          title="Your library could not be loaded"
          detail=${library.error.message}
          actionLabel="Retry"
          onAction=${library.retry}
          onBack=${toHome}
        />`
      : html`<${LoadingScreen} label="Loading your library…" />`
  }
  const film = library.value.films.find(candidate => candidate.tokenId === route.tokenId)
  if (!film) {
    return html`<${MessageScreen}
      screen="film-missing"
      title="This film is not in your library"
      detail="It may have been sold or transferred, or it is test content shown only in developer mode."
      actionLabel="Back to library"
      onAction=${toHome}
      onBack=${toHome}
    />`
  }
  if (route.name === 'film') {
    return html`<${FilmScreen}
      key=${film.tokenId}
      film=${film}
      onPlay=${(/** @type {number} */ startAt) => navigate(playerHash(film.tokenId, startAt))}
      onBack=${toHome}
    />`
  }
  const toFilm = () => goBackTo(filmHash(film.tokenId))
  // a sale while the film plays: the box cuts the stream and says so through the library
  if (film.state === 'locked') {
    return html`<${MessageScreen}
      screen="player-sold"
      title="This film was sold from this wallet"
      detail=${`Playback stopped. ${film.title} now belongs to another wallet, and plays only on the screens of the wallet that holds it.`}
      actionLabel="Back"
      onAction=${toFilm}
      onBack=${toFilm}
    />`
  }
  if (!film.playable) {
    return html`<${MessageScreen}
      screen="player-unavailable"
      title=${`${film.title} cannot be played now`}
      detail="Open the film's page to see why."
      actionLabel="Back"
      onAction=${toFilm}
      onBack=${toFilm}
    />`
  }
  const startAt = 'startAt' in route ? route.startAt : 0
  return html`<${PlayerScreen}
    key=${film.tokenId}
    film=${film}
    startAt=${startAt}
    saveProgress=${true}
    onStreamFailed=${library.reload}
    onBack=${toFilm}
  />`
}

function App() {
  const status = usePolling(getStatus, statusPollDelay, true)
  const paired = status.value?.paired === true
  const session = usePolling(getSession, sessionPollDelay, status.value !== null)
  const signedIn = session.value?.signedIn === true
  const route = useRoute()
  // the library is the owner's: only a signed-in screen asks for it
  const library = usePolling(getLibrary, libraryPollDelay, paired && signedIn)
  // The box says when the library changed (a purchase, a sale, a film ready): it is read again at
  // once. The polls stay, for the moments the event stream is down or refused.
  useEffect(() => {
    if (!paired || !signedIn) return
    const events = new EventSource('/api/library/events')
    events.addEventListener('change', library.reload)
    return () => events.close()
  }, [paired, signedIn])
  // a session that ended (it expired, or the box was unpaired from another screen): this TV is a guest again
  const libraryRefused = library.error instanceof ApiError && library.error.status === 401
  useEffect(() => {
    if (libraryRefused) session.refresh()
  }, [libraryRefused])
  const disk = usePolling(loadDiskConsent, diskPollDelay, status.value !== null)
  const consent = disk.value

  // Pairing or unpairing (here or from another browser) changes what this browser may do.
  useEffect(() => {
    if (status.value) session.refresh()
  }, [paired])
  // Leaving the player (the saved position changes Resume and Continue watching) or settings
  // (developer mode changes which films are listed): the library is read again.
  const lastRoute = useRef(route)
  useEffect(() => {
    const left = lastRoute.current.name
    if ((left === 'player' || left === 'settings') && route.name !== left) library.refresh()
    lastRoute.current = route
  }, [route])

  // pairing or signing in changed what the box says about this browser
  const signedInNow = () => {
    status.refresh()
    session.refresh()
    library.refresh()
  }

  if (!status.value) {
    return status.error
      ? html`<${MessageScreen}
          screen="unavailable"
          title="Seed One is not available"
          detail=${status.error.message}
          actionLabel="Retry"
          onAction=${status.retry}
        />`
      : html`<${LoadingScreen} label="Starting…" />`
  }
  if (!session.value) {
    return session.error
      ? html`<${MessageScreen}
          screen="session-error"
          title="Seed One did not answer"
          detail=${session.error.message}
          actionLabel="Retry"
          onAction=${session.retry}
        />`
      : html`<${LoadingScreen} label="Starting…" />`
  }
  // a box that cannot say whether a disk waits (a failed request) is not held up by it
  if (!disk.value && !disk.error) return html`<${LoadingScreen} label="Starting…" />`
  if (consent && ['pending', 'applying', 'failed'].includes(consent.state)) {
    return html`<${DiskConsentScreen} consent=${consent} onDecided=${disk.refresh} onCheckAgain=${disk.refresh} />`
  }
  if (!paired) return html`<${PairingScreen} status=${status.value} onSignedIn=${signedInNow} onPairedElsewhere=${signedInNow} />`

  switch (route.name) {
    case 'sign-in':
      // home once the session says so, never before: it would still offer Sign in
      if (signedIn) return html`<${Redirect} to=${homeHash} />`
      return html`<${PairingScreen} status=${status.value} onSignedIn=${signedInNow} onPairedElsewhere=${signedInNow} onBack=${toHome} />`
    case 'renew':
      // renewing is the owner's: a guest's TV signs in first
      if (!signedIn) return html`<${Redirect} to=${signInHash} />`
      return html`<${PairingScreen}
        status=${status.value}
        renew
        onSignedIn=${() => goBackTo(settingsHash)}
        onPairedElsewhere=${signedInNow}
        onBack=${() => goBackTo(settingsHash)}
      />`
    case 'settings':
      return html`<${SettingsScreen}
        status=${status.value}
        signedIn=${signedIn}
        onBack=${toHome}
        onUnpaired=${() => {
          location.replace(homeHash)
          status.refresh()
          session.refresh()
        }}
      />`
    case 'health':
      return html`<${HealthScreen} status=${status.value} onBack=${toHome} />`
    case 'film':
    case 'player':
      if (!signedIn) return html`<${Redirect} to=${signInHash} />`
      return html`<${FilmRoutes} route=${route} library=${library} />`
    default:
      return html`<${HomeScreen} library=${library.value} error=${library.error} onRetry=${library.retry} signedIn=${signedIn} />`
  }
}

startFocusNavigation()
render(html`<${App} />`, /** @type {HTMLElement} */ (document.getElementById('app')))
