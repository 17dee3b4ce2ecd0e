// How numbers, times and films read on screen.

/** @typedef {import('./api.js').Film} Film */

/** A language code as its name ("en" → "English"), or the code when the browser cannot say. @param {string} code */
export function languageName(code) {
  try {
    return new Intl.DisplayNames(['en'], { type: 'language' }).of(code) ?? code
  } catch {
    return code
  }
}

/**
 * A subtitle track's name on screen: its label, with "(forced)" for a forced track whose label does not say so.
 * @param {Film['subtitles'][number]} track
 */
export function subtitleLabel(track) {
  return track.forced && !/forced/i.test(track.label) ? `${track.label} (forced)` : track.label
}

/**
 * The subtitle track a film starts with: its default track, else its forced one, else none (-1).
 * @param {Film} film
 */
export function startingSubtitle(film) {
  const byDefault = film.subtitles.findIndex(track => track.default)
  return byDefault !== -1 ? byDefault : film.subtitles.findIndex(track => track.forced)
}

/** A length of film: "45 s", "12 min", "1 h 05 min". @param {number} seconds */
export function formatDuration(seconds) {
  const total = Math.max(0, Math.round(seconds))
  if (total < 60) return `${total} s`
  const hours = Math.floor(total / 3600)
  const minutes = Math.round((total % 3600) / 60)
  return hours > 0 ? `${hours} h ${String(minutes).padStart(2, '0')} min` : `${minutes} min`
}

/** A position in a film: "4:05", "1:02:09". @param {number} seconds */
export function formatClock(seconds) {
  const total = Math.max(0, Math.floor(Number.isFinite(seconds) ? seconds : 0))
  const h = Math.floor(total / 3600)
  const m = Math.floor((total % 3600) / 60)
  const s = String(total % 60).padStart(2, '0')
  return h > 0 ? `${h}:${String(m).padStart(2, '0')}:${s}` : `${m}:${s}`
}

const BYTE_UNITS = ['B', 'KB', 'MB', 'GB', 'TB']

/** Sizes in units of 1024, as most TVs and computers show them: "50 GB", "1.5 TB". @param {number} bytes */
export function formatBytes(bytes) {
  let value = Math.max(0, bytes)
  let unit = 0
  while (value >= 1024 && unit < BYTE_UNITS.length - 1) {
    value /= 1024
    unit++
  }
  const digits = value >= 100 || unit === 0 || Number.isInteger(value) ? 0 : 1
  return `${value.toFixed(digits)} ${BYTE_UNITS[unit]}`
}

/** A network speed from bytes per second, in bits as internet plans are sold: "20 Mbit/s". @param {number} bytesPerSec */
export function formatBitRate(bytesPerSec) {
  const bits = Math.max(0, bytesPerSec) * 8
  if (bits >= 1e9) return `${+(bits / 1e9).toFixed(1)} Gbit/s`
  if (bits >= 1e6) return `${+(bits / 1e6).toFixed(1)} Mbit/s`
  if (bits >= 1e3) return `${+(bits / 1e3).toFixed(0)} kbit/s`
  return `${Math.round(bits)} bit/s`
}

/** Short form of a long hex identifier: 0x1234…abcd. @param {string} id */
export function shortId(id) {
  return id.length > 14 ? `${id.slice(0, 6)}…${id.slice(-4)}` : id
}

/** What the owner needs to know about a film that is not simply ready. @param {Film} film */
export function stateLabel(film) {
  switch (film.state) {
    case 'pending':
      return 'Queued'
    case 'pinning':
      return `Downloading ${Math.round(film.progress * 100)}%`
    case 'locked':
      return 'Locked — sold'
    case 'error':
      return 'Could not be prepared'
    default:
      return 'Ready to play'
  }
}

/** @param {Film} film */
export const isPreparing = film => film.state === 'pending' || film.state === 'pinning'

/** Content classes a collector should notice: the platform's test and development films, and the demo. */
const CLASS_LABELS = { test: 'Test', development: 'Development', demo: 'Demo' }

/** @param {Film} film @returns {string | undefined} */
export const classLabel = film => CLASS_LABELS[/** @type {keyof typeof CLASS_LABELS} */ (film.contentClass)]

/** What each rights tier lets its holder do; each tier includes the ones below it. Never the copyright. */
const TIER_PERMITS = [
  '',
  'Watch at home and keep a copy, for life — like owning a Blu-ray.',
  'Screen it in public at a small venue, and watch it at home for life.',
  'Offer it on a streaming service, screen it at small venues, and watch it at home.',
  'Release it in cinemas, stream it, screen it at small venues, and watch it at home.',
  'Distribute it nationally, broadcast included, with every right below that.'
]

/** @param {Film} film */
export function tierPermits(film) {
  return `${TIER_PERMITS[film.tier.level] ?? 'Distribution rights beyond the listed tiers.'} The copyright stays with its makers.`
}

/** Title case for a tier name as the box sends it ("small venue" → "Small venue"). @param {string} name */
export const tierLabel = name => name.charAt(0).toUpperCase() + name.slice(1)

/** Above the personal licence every collector holds. @param {Film} film */
export const isDistributionTier = film => film.tier.level > 1

/** When the owner's authorisation of the box ends, for the TV. @param {string | null | undefined} iso */
export const formatAuthorisationEnd = iso => (iso ? new Date(iso).toLocaleDateString() : 'no end date (signed by an older release)')
