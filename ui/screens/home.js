// Home: "Continue watching", then every film the owner's wallet holds as a poster grid; to a guest,
// only a way to sign in.
import { html } from 'htm/preact'
import { filmHash, healthHash, settingsHash, signInHash } from '../routes.js'
import { classLabel, formatDuration, isDistributionTier, isPreparing, stateLabel, tierLabel } from '../format.js'
import { Loading, Message, Poster, ProgressBar, TopBar } from '../components/common.js'

/** @typedef {import('../api.js').Film} Film */
/** @typedef {import('../api.js').Library} Library */

/** @param {{ film: Film }} props */
function CardBadges({ film }) {
  const label = classLabel(film)
  return html`${label && html`<span class="badge badge-class">${label}</span>`}
  ${isDistributionTier(film) && html`<span class="badge badge-tier">${tierLabel(film.tier.name)}</span>`}`
}

/** @param {{ film: Film, autofocus: boolean }} props */
function FilmCard({ film, autofocus }) {
  const detail = film.state === 'ready' ? formatDuration(film.durationSeconds) : stateLabel(film)
  return html`<a
    class=${`card card-${film.state}`}
    href=${filmHash(film.tokenId)}
    data-token-id=${film.tokenId}
    data-focus-key=${`film:${film.tokenId}`}
    data-autofocus=${autofocus || undefined}
  >
    <div class="card-frame">
      <${Poster} film=${film} />
      <${CardBadges} film=${film} />
      ${film.state === 'locked' && html`<span class="card-lock" aria-hidden="true"></span>`}
      ${isPreparing(film) && html`<div class="card-progress"><${ProgressBar} value=${film.progress} label="Download" /></div>`}
    </div>
    <div class="card-title">${film.title}</div>
    <div class=${`card-detail ${film.state === 'error' || film.state === 'locked' ? 'card-detail-warn' : ''}`}>${detail}</div>
  </a>`
}

/** A film part watched: its frame with how far the owner got. @param {{ film: Film, autofocus: boolean }} props */
function ContinueCard({ film, autofocus }) {
  const playback = /** @type {import('../api.js').Playback} */ (film.playback)
  const left = Math.max(0, playback.durationSec - playback.positionSec)
  return html`<a
    class="card card-wide"
    href=${filmHash(film.tokenId)}
    data-token-id=${film.tokenId}
    data-focus-key=${`continue:${film.tokenId}`}
    data-autofocus=${autofocus || undefined}
  >
    <div class="card-frame">
      <${Poster} film=${film} className="poster-wide" />
      <${CardBadges} film=${film} />
      <div class="card-progress">
        <${ProgressBar} value=${playback.positionSec / playback.durationSec} label="Watched" />
      </div>
    </div>
    <div class="card-title">${film.title}</div>
    <div class="card-detail">${formatDuration(left)} left</div>
  </a>`
}

/**
 * The box cannot read the chain: the library is as it was last synced, and films already on the box play.
 * @param {{ chainSync: import('../api.js').ChainSync }} props
 */
function ChainNotice({ chainSync }) {
  const since = chainSync.lastSyncAt ? ` since ${new Date(chainSync.lastSyncAt).toLocaleString()}` : ''
  return html`<div class="notice notice-warn" role="status" data-notice="chain">
    <span>
      Seed One cannot read the blockchain, so purchases and sales made${since} do not show yet. Films on this box play as usual.
      <span class="notice-detail">${chainSync.error}</span>
    </span>
  </div>`
}

/**
 * @param {{
 *   library: Library | null, error: Error | null, onRetry: () => void,
 *   signedIn: boolean
 * }} props library is null until the first answer (and for a guest); error with a library means a refresh failed
 */
export function HomeScreen({ library, error, onRetry, signedIn }) {
  const films = library?.films ?? null
  const continuing = library
    ? library.continueWatching.map(id => library.films.find(film => film.tokenId === id)).filter(film => film?.playback)
    : []
  let body
  if (!signedIn) {
    // a guest sees no shelf: what the owner holds, and its films, are for the owner's screens only
    body = html`<div class="state" role="status">
      <h2 class="state-title">Sign in to watch</h2>
      <p class="state-detail">
        Films play only on screens the owner has signed in. Sign in with the owner's wallet: this TV shows a code to scan.
      </p>
      <a class="button button-primary" href=${signInHash} data-autofocus data-focus-key="sign-in">Sign in</a>
    </div>`
  } else if (!films) {
    body = error
      ? html`<${Message}
          heading="h2"
          title="Your library could not be loaded"
          detail=${error.message}
          actionLabel="Retry"
          onAction=${onRetry}
        />`
      : html`<${Loading} label="Loading your library…" />`
  } else if (films.length === 0) {
    body = html`<${Message}
      heading="h2"
      title="No films yet"
      detail="Films held by your wallet appear here as soon as the box sees them on chain."
      actionLabel="Refresh"
      onAction=${onRetry}
    />`
  } else {
    body = html`
      ${
        continuing.length > 0 &&
        html`<section class="shelf" aria-labelledby="continue-title">
          <h2 id="continue-title" class="shelf-title">Continue watching</h2>
          <div class="row">
            ${continuing.map((film, index) => html`<${ContinueCard} key=${film?.tokenId} film=${film} autofocus=${index === 0} />`)}
          </div>
        </section>`
      }
      <section class="shelf" aria-labelledby="library-title">
        <h2 id="library-title" class="shelf-title">Library</h2>
        <div class="grid">
          ${films.map((film, index) => html`<${FilmCard} key=${film.tokenId} film=${film} autofocus=${continuing.length === 0 && index === 0} />`)}
        </div>
      </section>
    `
  }
  return html`<main class="screen home" data-screen="home">
    <h1 class="visually-hidden">Seed One</h1>
    <${TopBar}>
      ${films && error && html`<span class="topbar-note">Offline — retrying</span>`}
      <a class="button button-small button-secondary" href=${healthHash} data-focus-key="health">Health</a>
      <a class="button button-small button-secondary" href=${settingsHash} data-focus-key="settings">Settings</a>
    <//>
    ${library?.chainSync?.state === 'failing' && html`<${ChainNotice} chainSync=${library.chainSync} />`} ${body}
  </main>`
}
