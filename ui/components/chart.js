// A small line chart as inline SVG: one series over time, its area shaded, scaled to its own range.
import { html } from 'htm/preact'

/** @typedef {{ at: number, value: number }} Point */

const WIDTH = 320
const HEIGHT = 96

/**
 * @param {{ points: Point[], from: number, to: number, floor?: number, ceiling?: number }} props
 *   from/to: the time span drawn (ms); floor/ceiling: fixed ends of the value axis (e.g. 0 and 100 %),
 *   else the series' own range
 */
export function LineChart({ points, from, to, floor, ceiling }) {
  if (points.length === 0) return html`<svg class="chart" viewBox=${`0 0 ${WIDTH} ${HEIGHT}`} aria-hidden="true"></svg>`
  const values = points.map(point => point.value)
  const low = floor ?? Math.min(...values)
  let high = ceiling ?? Math.max(...values)
  if (high <= low) high = low + 1 // a flat line sits at the bottom rather than dividing by zero
  const span = Math.max(1, to - from)
  const x = (/** @type {number} */ at) => ((at - from) / span) * WIDTH
  const y = (/** @type {number} */ value) => HEIGHT - 2 - ((value - low) / (high - low)) * (HEIGHT - 4)
  const line = points.map(point => `${x(point.at).toFixed(1)},${y(point.value).toFixed(1)}`).join(' ')
  const first = x(points[0].at).toFixed(1)
  const last = x(points[points.length - 1].at).toFixed(1)
  // one reading is a short mark at its value: a line needs two
  const drawn = points.length === 1 ? `${Math.max(0, x(points[0].at) - 4).toFixed(1)},${y(points[0].value).toFixed(1)} ${line}` : line
  return html`<svg class="chart" viewBox=${`0 0 ${WIDTH} ${HEIGHT}`} preserveAspectRatio="none" aria-hidden="true">
    <polygon class="chart-area" points=${`${first},${HEIGHT} ${drawn} ${last},${HEIGHT}`} />
    <polyline class="chart-line" points=${drawn} vector-effect="non-scaling-stroke" />
  </svg>`
}
