// One film: poster and backdrop, facts, synopsis, rights, where its copies are, and Play / Resume / Start over.
import { html } from 'htm/preact'
import {
  classLabel,
  formatClock,
  formatDuration,
  isPreparing,
  languageName,
  stateLabel,
  subtitleLabel,
  tierLabel,
  tierPermits
} from '../format.js'
import { Poster, ProgressBar, useBack } from '../components/common.js'

/** @typedef {import('../api.js').Film} Film */

/** This box's copy, in words. @param {Film} film */
function localCopyText(film) {
  const percent = `${Math.round(film.progress * 100)}%`
  switch (film.storage.local) {
    case 'ready':
      return 'Stored on this box'
    case 'pinning':
      return `Downloading to this box — ${percent}`
    case 'partial':
      return `Partly downloaded (${percent}); it carries on by itself`
    case 'releasing':
      return 'Still on this box until it is released (sold)'
    default:
      return film.state === 'locked' ? 'Released from this box (sold)' : 'Waiting to download'
  }
}

/** The network's copies, in words: the collector wants to know the film is safe. @param {Film} film */
function networkCopiesText(film) {
  const copies = film.storage.networkCopies
  if (copies === null) return 'Not known yet'
  if (copies === 0) return 'No other copies yet'
  return `${copies === 1 ? '1 copy' : `${copies} copies`} on other Seed Ones${copies >= 3 ? ' — safe' : ''}`
}

/**
 * The source's picture subtitles (PGS…), in words, as they are: those publish made a version of play as
 * that version, with the subtitles drawn into the picture; the others this box cannot show.
 * @param {Film} film
 */
function imageSubtitlesText(film) {
  /** @param {Film['imageSubtitles']} streams */
  const names = streams =>
    [...new Set(streams.map(s => (s.language === 'und' ? (s.label ?? 'unknown language') : languageName(s.language))))].join(', ')
  const versions = film.imageSubtitles.filter(stream => stream.url !== null)
  const unshown = film.imageSubtitles.filter(stream => stream.url === null)
  const sentences = []
  if (versions.length > 0)
    sentences.push(
      `${names(versions)} (picture subtitles): ${versions.length === 1 ? 'plays as a separate version' : 'each plays as a separate version'} with the subtitles in the picture.`
    )
  if (unshown.length > 0) sentences.push(`The film also has subtitles as pictures (${names(unshown)}) that this box cannot show.`)
  return sentences.join(' ')
}

/**
 * @param {{ film: Film, onPlay: (startAt: number) => void, onBack: () => void }} props
 */
export function FilmScreen({ film, onPlay, onBack }) {
  useBack(onBack)
  const playback = film.playback
  const resumeAt = playback?.resumable ? playback.positionSec : 0
  const label = classLabel(film)
  const facts = [film.year && String(film.year), formatDuration(film.durationSeconds), label && `${label} content`]
  if (film.subtitles.length > 0) facts.push(`Subtitles: ${film.subtitles.map(subtitleLabel).join(', ')}`)
  if (film.chapters.length > 0) facts.push(film.chapters.length === 1 ? '1 chapter' : `${film.chapters.length} chapters`)
  const playIcon = html`<svg class="icon" viewBox="0 0 24 24" aria-hidden="true"><path d="M7 4.5v15l13-7.5z" fill="currentColor" /></svg>`

  let actions
  if (!film.playable) {
    actions = html`<button class="button button-secondary" data-autofocus onClick=${onBack}>Library</button>`
  } else if (resumeAt > 0) {
    actions = html`<button class="button button-primary" data-autofocus data-focus-key="resume" onClick=${() => onPlay(resumeAt)}>
        ${playIcon} Resume from ${formatClock(resumeAt)}
      </button>
      <button class="button button-secondary" data-focus-key="start-over" onClick=${() => onPlay(0)}>Start over</button>`
  } else {
    actions = html`<button class="button button-primary" data-autofocus data-focus-key="play" onClick=${() => onPlay(0)}>
      ${playIcon} Play
    </button>`
  }

  return html`<main class=${`screen film film-${film.state}`} data-screen=${`film:${film.tokenId}`}>
    <div class="backdrop" aria-hidden="true" style=${{ backgroundImage: `url("${film.posterUrl}")` }}></div>
    <div class="film-layout">
      <${Poster} film=${film} className="film-poster" />
      <div class="film-details">
        <h1 class="film-title">${film.title}</h1>
        <ul class="facts">
          ${facts.filter(Boolean).map(fact => html`<li>${fact}</li>`)}
        </ul>
        <div class="actions">${actions}</div>
        ${
          resumeAt > 0 &&
          html`<div class="resume-progress">
            <${ProgressBar} value=${resumeAt / film.durationSeconds} label="Watched" />
            <span>${formatDuration(film.durationSeconds - resumeAt)} left</span>
          </div>`
        }
        ${film.synopsis && html`<p class="synopsis">${film.synopsis}</p>`}
        <dl class="film-info">
          <div>
            <dt>Rights</dt>
            <dd>
              <span class="chip">${tierLabel(film.tier.name)}</span>
              <span>${film.quantity === '1' ? '1 token held.' : `${film.quantity} tokens held.`}</span>
              <span>${tierPermits(film)}</span>
            </dd>
          </div>
          <div>
            <dt>This box</dt>
            <dd>
              <span
                >${film.state === 'ready' || film.state === 'pinning' ? localCopyText(film) : `${stateLabel(film)}. ${localCopyText(film)}`}</span
              >
              ${film.state === 'error' && film.error && html`<span class="film-error">${film.error}</span>`}
              ${isPreparing(film) && html`<${ProgressBar} value=${film.progress} label="Download" />`}
            </dd>
          </div>
          ${
            film.imageSubtitles.length > 0 &&
            html`<div>
              <dt>Subtitles</dt>
              <dd><span class="image-subtitles">${imageSubtitlesText(film)}</span></dd>
            </div>`
          }
          <div>
            <dt>Network</dt>
            <dd><span>${networkCopiesText(film)}</span></dd>
          </div>
        </dl>
      </div>
    </div>
  </main>`
}
