// One film: poster, facts, synopsis and the Play button (focused unless the film cannot play).
import { html } from 'htm/preact'
import { Poster, ProgressBar, formatDuration, isPreparing, stateLabel, useBack } from './common.js'

/** @typedef {import('../api.js').Film} Film */

const CLASS_NAMES = { production: 'Feature', test: 'Test content', demo: 'Demo', development: 'Development' }

/** @param {{ film: Film, onPlay: () => void, onBack: () => void }} props */
export function FilmScreen({ film, onPlay, onBack }) {
  useBack(onBack)
  const playable = film.state === 'ready'
  const facts = [formatDuration(film.durationSeconds), CLASS_NAMES[film.contentClass] ?? film.contentClass]
  if (film.subtitles.length > 0) facts.push(`Subtitles: ${film.subtitles.map(track => track.label).join(', ')}`)
  return html`<div class=${`screen film film-${film.state}`}>
    <div class="backdrop" aria-hidden="true" style=${{ backgroundImage: `url("${film.posterUrl}")` }}></div>
    <div class="film-layout">
      <${Poster} film=${film} className="film-poster" />
      <div class="film-details">
        <h1 class="film-title">${film.title}</h1>
        <ul class="facts">
          ${facts.map(fact => html`<li>${fact}</li>`)}
        </ul>
        <div class="ownership">
          <span class="chip">${film.tier.name}</span>
          <span class="ownership-quantity">${film.quantity === '1' ? '1 token held' : `${film.quantity} tokens held`}</span>
        </div>
        ${film.synopsis && html`<p class="synopsis">${film.synopsis}</p>`}
        ${
          !playable &&
          html`<div class="film-state" role="status">
            <span>${stateLabel(film)}</span>
            ${film.state === 'error' && film.error && html`<span class="film-state-reason">${film.error}</span>`}
            ${isPreparing(film) && html`<${ProgressBar} value=${film.progress} />`}
          </div>`
        }
        <div class="actions">
          <button class="button button-primary" disabled=${!playable} data-autofocus=${playable || undefined} onClick=${onPlay}>
            <svg class="icon" viewBox="0 0 24 24" aria-hidden="true"><path d="M7 4.5v15l13-7.5z" fill="currentColor" /></svg>
            Play
          </button>
          <button class="button button-secondary" data-autofocus=${!playable || undefined} onClick=${onBack}>Library</button>
        </div>
      </div>
    </div>
  </div>`
}
