// The library: every film the owner's wallet holds, as a grid of posters.
import { html } from 'htm/preact'
import { filmHash } from '../routes.js'
import { LibraryLoading, Message, Poster, ProgressBar, Wordmark, formatDuration, isPreparing, shortId, stateLabel } from './common.js'

/** @typedef {import('../api.js').Film} Film */

const CLASS_BADGES = { test: 'Test', demo: 'Demo', development: 'Development' }

/** @param {{ film: Film, autofocus: boolean }} props */
function FilmCard({ film, autofocus }) {
  const badge = CLASS_BADGES[/** @type {keyof typeof CLASS_BADGES} */ (film.contentClass)]
  const detail = film.state === 'ready' ? `${formatDuration(film.durationSeconds)} · ${film.tier.name}` : stateLabel(film)
  return html`<a
    class=${`card card-${film.state}`}
    href=${filmHash(film.tokenId)}
    data-token-id=${film.tokenId}
    data-autofocus=${autofocus || undefined}
  >
    <div class="card-frame">
      <${Poster} film=${film} />
      ${badge && html`<span class="badge">${badge}</span>`}
      ${film.state === 'locked' && html`<span class="card-lock" aria-hidden="true"></span>`}
      ${isPreparing(film) && html`<div class="card-progress"><${ProgressBar} value=${film.progress} /></div>`}
    </div>
    <div class="card-title">${film.title}</div>
    <div class=${`card-detail ${film.state === 'error' || film.state === 'locked' ? 'card-detail-warn' : ''}`}>${detail}</div>
  </a>`
}

/**
 * @param {{
 *   films: Film[] | null, error: Error | null, onRetry: () => void,
 *   owner: string | null, focusTokenId: string | null
 * }} props films is null until the first answer; error with films means a refresh failed
 */
export function LibraryScreen({ films, error, onRetry, owner, focusTokenId }) {
  let body
  if (!films) {
    body = html`<${LibraryLoading} error=${error} onRetry=${onRetry} />`
  } else if (films.length === 0) {
    body = html`<${Message}
      title="No films yet"
      detail="Films held by your wallet appear here as soon as the box sees them on chain."
      actionLabel="Refresh"
      onAction=${onRetry}
    />`
  } else {
    const focusable = films.some(film => film.tokenId === focusTokenId) ? focusTokenId : films[0].tokenId
    body = html`<div class="grid">
      ${films.map(film => html`<${FilmCard} key=${film.tokenId} film=${film} autofocus=${film.tokenId === focusable} />`)}
    </div>`
  }
  return html`<div class="screen library">
    <header class="topbar">
      <${Wordmark} />
      <div class="topbar-meta">
        ${films && error && html`<span class="topbar-warn">Offline — retrying</span>`}
        ${films && html`<span>${films.length === 1 ? '1 film' : `${films.length} films`}</span>`}
        ${owner && html`<span class="mono">${shortId(owner)}</span>`}
      </div>
    </header>
    <h1 class="screen-title">Library</h1>
    ${body}
  </div>`
}
