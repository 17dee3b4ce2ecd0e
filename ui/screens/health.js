// Health: how the box has been over the last day (CPU temperature and load, memory, disk, network),
// one small chart each, from the samples the box keeps; and, behind "Technical details", the ids and
// chain figures a support call needs, kept off every other screen of the TV.
import { html } from 'htm/preact'
import { useState } from 'preact/hooks'
import { getHealthHistory } from '../api.js'
import { formatBitRate, formatBytes } from '../format.js'
import { usePolling } from '../polling.js'
import { LineChart } from '../components/chart.js'
import { Loading, Message, TopBar, useBack } from '../components/common.js'

/** @typedef {import('../api.js').SystemStats} SystemStats */
/** @typedef {import('../api.js').Status} Status */
/** @typedef {import('../components/chart.js').Point} Point */
/**
 * @typedef {{
 *   id: string, title: string, points: Point[], now: string, range: string, floor?: number, ceiling?: number, empty?: string
 * }} Metric
 */

const REFRESH_MS = 60_000
const DAY_MS = 24 * 3600_000
const refreshDelay = () => REFRESH_MS

/** @param {number} value @param {string} unit */
const round = (value, unit) => `${Math.round(value)}${unit}`

/**
 * A metric's points, its latest value and its range over the day, in words.
 * @param {Point[]} points
 * @param {(value: number) => string} format
 */
function describe(points, format) {
  if (points.length === 0) return { now: '—', range: '' }
  const values = points.map(point => point.value)
  return {
    now: format(values[values.length - 1]),
    range: `${format(Math.min(...values))} – ${format(Math.max(...values))} today`
  }
}

/**
 * Rates from the network counters (bytes since boot): the difference between neighbouring samples
 * over the time between them; a counter that went down (a reboot) starts afresh.
 * @param {SystemStats[]} samples
 * @param {'rxBytes' | 'txBytes'} counter
 * @returns {Point[]}
 */
function rates(samples, counter) {
  const points = []
  for (let i = 1; i < samples.length; i++) {
    const seconds = (Date.parse(samples[i].at) - Date.parse(samples[i - 1].at)) / 1000
    const bytes = samples[i].network[counter] - samples[i - 1].network[counter]
    if (seconds > 0 && bytes >= 0) points.push({ at: Date.parse(samples[i].at), value: bytes / seconds })
  }
  return points
}

/** @param {SystemStats[]} samples @returns {Metric[]} */
function metrics(samples) {
  /** @param {(sample: SystemStats) => number | null} read */
  const series = read => {
    /** @type {Point[]} */
    const points = []
    for (const sample of samples) {
      const value = read(sample)
      if (value !== null) points.push({ at: Date.parse(sample.at), value })
    }
    return points
  }
  const latest = samples[samples.length - 1]
  const percent = (/** @type {number} */ used, /** @type {number} */ total) => (total > 0 ? (used / total) * 100 : 0)
  const temperature = series(sample => sample.cpu.temperatureC)
  const load = series(sample => sample.cpu.loadPercent)
  const memory = series(sample => percent(sample.memory.usedBytes, sample.memory.totalBytes))
  const disk = series(sample => percent(sample.disk.usedBytes, sample.disk.totalBytes))
  const down = rates(samples, 'rxBytes')
  const up = rates(samples, 'txBytes')
  return [
    {
      id: 'temperature',
      title: 'CPU temperature',
      points: temperature,
      ...describe(temperature, value => round(value, ' °C')),
      empty: 'No sensor'
    },
    { id: 'load', title: 'CPU load', points: load, floor: 0, ceiling: 100, ...describe(load, value => round(value, ' %')) },
    {
      id: 'memory',
      title: 'Memory',
      points: memory,
      floor: 0,
      ceiling: 100,
      ...describe(memory, value => round(value, ' %')),
      ...(latest && { range: `${formatBytes(latest.memory.usedBytes)} of ${formatBytes(latest.memory.totalBytes)} in use` })
    },
    {
      id: 'disk',
      title: 'Disk',
      points: disk,
      floor: 0,
      ceiling: 100,
      ...describe(disk, value => round(value, ' %')),
      ...(latest && { range: `${formatBytes(latest.disk.freeBytes)} free of ${formatBytes(latest.disk.totalBytes)}` })
    },
    { id: 'network-down', title: 'Network in', points: down, floor: 0, ...describe(down, formatBitRate), empty: 'Needs two readings' },
    { id: 'network-up', title: 'Network out', points: up, floor: 0, ...describe(up, formatBitRate), empty: 'Needs two readings' }
  ]
}

/** @param {{ metric: Metric, from: number, to: number, autofocus: boolean }} props */
function MetricCard({ metric, from, to, autofocus }) {
  const hasData = metric.points.length > 0
  return html`<article
    class="metric"
    tabindex="0"
    aria-labelledby=${`${metric.id}-title`}
    aria-describedby=${`${metric.id}-value ${metric.id}-range`}
    data-focus-key=${metric.id}
    data-autofocus=${autofocus || undefined}
  >
    <h2 class="metric-title" id=${`${metric.id}-title`}>${metric.title}</h2>
    <p class=${`metric-value ${hasData ? '' : 'metric-value-empty'}`} id=${`${metric.id}-value`}>
      ${hasData ? metric.now : (metric.empty ?? '—')}
    </p>
    <${LineChart} points=${metric.points} from=${from} to=${to} floor=${metric.floor} ceiling=${metric.ceiling} />
    <p class="metric-range" id=${`${metric.id}-range`}>${metric.range}</p>
  </article>`
}

/** The wallet, device id and chain, shown only when asked for. @param {{ status: Status }} props */
function TechnicalDetails({ status }) {
  const [open, setOpen] = useState(false)
  return html`<section class="settings-section health-details" aria-labelledby="details-title">
    <h2 id="details-title" class="visually-hidden">Technical details</h2>
    <button class="button button-small button-secondary" aria-expanded=${open} data-focus-key="details" onClick=${() => setOpen(!open)}>
      ${open ? 'Hide technical details' : 'Technical details'}
    </button>
    ${
      open &&
      html`<dl class="facts-table">
        <div>
          <dt>Wallet</dt>
          <dd class="mono">${status.owner ?? (status.paired ? 'Shown once you sign in' : 'Not paired')}</dd>
        </div>
        <div>
          <dt>Device</dt>
          <dd class="mono">${status.deviceId}</dd>
        </div>
        <div>
          <dt>Chain</dt>
          <dd>${`Chain ${status.chainId}, block ${status.syncedBlock}`}</dd>
        </div>
        <div>
          <dt>Version</dt>
          <dd>${status.version}</dd>
        </div>
      </dl>`
    }
  </section>`
}

/** @param {{ status: Status, onBack: () => void }} props */
export function HealthScreen({ status, onBack }) {
  useBack(onBack)
  const { value, error, retry, refresh } = usePolling(getHealthHistory, refreshDelay, true)
  const samples = value?.samples ?? null
  let body
  if (!samples) {
    body = error
      ? html`<${Message} heading="h2" title="Health could not be loaded" detail=${error.message} actionLabel="Retry" onAction=${retry} />`
      : html`<${Loading} label="Loading health…" />`
  } else if (samples.length === 0) {
    body = html`<${Message}
      heading="h2"
      title="No readings yet"
      detail="The box takes a reading every few minutes; the first appears shortly after it starts."
      actionLabel="Refresh"
      onAction=${refresh}
    />`
  } else {
    const to = Date.parse(samples[samples.length - 1].at)
    body = html`<div class="metrics">
      ${metrics(samples).map((metric, index) => html`<${MetricCard} key=${metric.id} metric=${metric} from=${to - DAY_MS} to=${to} autofocus=${index === 0} />`)}
    </div>`
  }
  return html`<main class="screen health" data-screen="health">
    <${TopBar}>${samples && error && html`<span class="topbar-note">Offline — retrying</span>`}<//>
    <h1 class="screen-title">Health</h1>
    <p class="screen-subtitle">
      The last 24 hours${samples && samples.length > 0 ? `, ${samples.length === 1 ? '1 reading' : `${samples.length} readings`}` : ''}
    </p>
    ${body}
    <${TechnicalDetails} status=${status} />
  </main>`
}
