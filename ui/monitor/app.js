// The fleet dashboard: the catalogue's films with their parts' copies, every node the monitor knows
// with its address, and the network's replication health.
import { html, render } from 'htm/preact'
import { formatBytes } from '../format.js'
import { usePolling } from '../polling.js'
import { formatAgo, formatDuration, formatPercent, shortId } from './format.js'

/**
 * GET /api/fleet, as the monitor types it.
 * @typedef {import('../../server/monitor/fleet.ts').Fleet} Fleet
 * @typedef {import('../../server/monitor/fleet.ts').FleetNode} FleetNode
 * @typedef {import('../../server/monitor/fleet.ts').FleetFilm} FleetFilm
 * @typedef {import('../../server/monitor/replication-health.ts').ReplicationHealth} ReplicationHealth
 */

const POLL_MS = 10_000

/** @param {AbortSignal} signal @returns {Promise<Fleet>} */
async function loadFleet(signal) {
  const response = await fetch('/api/fleet', { signal, cache: 'no-store', headers: { accept: 'application/json' } })
  if (!response.ok) throw new Error(`the monitor answered ${response.status}`)
  return await response.json()
}

const everyPoll = () => POLL_MS

/** @param {{ label: string, value: string | number, note?: string, alert?: boolean, ok?: boolean }} props */
function Figure({ label, value, note, alert, ok }) {
  return html`<div class=${`figure${alert ? ' figure-alert' : ''}${ok ? ' figure-ok' : ''}`}>
    <div class="figure-value mono">${value}</div>
    <div class="figure-label">${label}</div>
    ${note && html`<div class="figure-note">${note}</div>`}
  </div>`
}

/** @param {{ fleet: Fleet }} props */
function Summary({ fleet }) {
  const live = fleet.nodes.filter(node => node.live).length
  const resting = fleet.nodes.filter(node => node.resting).length
  const { replication } = fleet
  const complete = fleet.films.filter(film => film.complete).length
  return html`<section class="figures" aria-label="Summary">
    <${Figure}
      label="Nodes live"
      value=${`${live} / ${fleet.nodes.length}`}
      note=${`${resting} resting in an announced window; no report for ${formatDuration(fleet.nodeTimeoutSec)} otherwise: down`}
      alert=${live + resting < fleet.nodes.length}
    />
    <${Figure}
      label=${`Films with every part at ${replication.minReplicas} copies`}
      value=${`${complete} / ${fleet.films.length}`}
      ok=${fleet.films.length > 0 && complete === fleet.films.length}
      alert=${complete < fleet.films.length}
    />
    <${Figure} label="CIDs kept" value=${replication.cids} />
    <${Figure}
      label=${`Under ${replication.minReplicas} copies`}
      value=${replication.underReplicated}
      ok=${replication.cids > 0 && replication.underReplicated === 0}
      alert=${replication.underReplicated > 0}
    />
    <${Figure} label="Without a copy" value=${replication.withoutCopy} alert=${replication.withoutCopy > 0} />
    <${Figure}
      label="Held up by resting copies"
      value=${replication.underWhileResting}
      note=${`under ${replication.minReplicas} live copies, not repaired: their resting holders come back`}
    />
  </section>`
}

/** @param {{ value: number, total: number }} props */
function Meter({ value, total }) {
  const share = total > 0 ? Math.min(1, value / total) : 0
  return html`<span class="meter" aria-hidden="true"><span class="meter-fill" style=${`width: ${share * 100}%`}></span></span>`
}

/** @param {{ node: FleetNode, now: number }} props */
function NodeRow({ node, now }) {
  const { disk, replication, challenges } = node
  const used = disk.totalBytes - disk.freeBytes
  const state = node.live ? 'Live' : node.resting ? 'Resting' : 'Down'
  return html`<tr class=${node.live ? '' : 'row-down'}>
    <td>
      <span class=${`status status-${state.toLowerCase()}`}>${state}</span>
    </td>
    <td>
      <div class="mono" title=${node.deviceId}>${shortId(node.deviceId)}</div>
      <div class="cell-note mono">${node.apiUrl}</div>
      <div class="cell-note">${node.roles.join(', ')} · ${node.version} · up ${formatDuration(node.uptimeSec)}</div>
    </td>
    <td class="mono" title=${node.lastReportAt}>${formatAgo(node.lastReportAt, now)}</td>
    <td>
      <div class="mono">${formatBytes(disk.freeBytes)} free</div>
      <div class="cell-note"><${Meter} value=${used} total=${disk.totalBytes} /> of ${formatBytes(disk.totalBytes)}</div>
    </td>
    <td class="mono">
      ${node.temperatureC === null ? '—' : `${Math.round(node.temperatureC)} °C`}${node.throttled ? html` <span class="flag">throttled</span>` : ''}
    </td>
    <td class="mono">${Math.round(node.cpuLoadPercent)} %</td>
    <td>
      <div class="mono">${replication.enabled ? `${replication.met} / ${replication.assigned}` : 'off'}</div>
      <div class="cell-note">${replication.missing > 0 ? `${replication.missing} missing` : `${replication.held} held`}</div>
    </td>
    <td>
      <div class="mono">${challenges.passed + challenges.failed === 0 ? '—' : formatPercent(challenges.score)}</div>
      <div class="cell-note">
        ${
          challenges.failedCids.length > 0
            ? html`<span class="flag" title=${challenges.failedCids.join('\n')}>${challenges.failedCids.length} failed</span>`
            : `${challenges.passed} passed · ${challenges.failed} failed`
        }
      </div>
    </td>
  </tr>`
}

/** @param {{ fleet: Fleet }} props */
function Nodes({ fleet }) {
  const now = Date.parse(fleet.generatedAt)
  if (fleet.nodes.length === 0) return html`<p class="empty">No node has reported yet. Start a box with --monitor-url pointing here.</p>`
  return html`<table class="nodes">
    <thead>
      <tr>
        <th>Status</th>
        <th>Node</th>
        <th>Last report</th>
        <th>Disk</th>
        <th>Temperature</th>
        <th>CPU</th>
        <th>Assignments</th>
        <th>Challenges</th>
      </tr>
    </thead>
    <tbody>
      ${fleet.nodes.map(node => html`<${NodeRow} key=${node.deviceId} node=${node} now=${now} />`)}
    </tbody>
  </table>`
}

/** A film's name on the dashboard: its title, or its token id until its metadata is read. @param {FleetFilm} film */
const filmName = film => film.title ?? `Film #${film.tokenId}`

/** @param {{ films: FleetFilm[], minReplicas: number }} props */
function Films({ films, minReplicas }) {
  if (films.length === 0) return html`<p class="empty">No film in the catalogue (the monitor follows a chain with --rpc-url).</p>`
  return html`<table class="nodes films">
    <thead>
      <tr>
        <th>Status</th>
        <th>Film</th>
        <th>Parts and their live copies</th>
      </tr>
    </thead>
    <tbody>
      ${films.map(
        film =>
          html`<tr key=${film.tokenId}>
            <td>
              <span class=${`status status-${film.complete ? 'complete' : 'under'}`}>
                ${film.complete ? `All at ${minReplicas}` : `Under ${minReplicas}`}
              </span>
            </td>
            <td>
              <div>${filmName(film)}</div>
              <div class="cell-note">token ${film.tokenId}</div>
            </td>
            <td>
              ${film.parts.map(
                part =>
                  html`<span key=${part.cid} class=${`part${part.copies < minReplicas ? ' part-under' : ''}`} title=${part.cid}>
                    ${part.name} <span class="mono">${part.copies}</span>
                  </span>`
              )}
            </td>
          </tr>`
      )}
    </tbody>
  </table>`
}

/** @param {{ replication: ReplicationHealth, films: FleetFilm[] }} props */
function Replication({ replication, films }) {
  if (replication.lowest.length === 0) {
    return html`<p class="empty">Every CID has at least ${replication.minReplicas} live copies.</p>`
  }
  // a loop, not flatMap: the dashboard runs on the TV floor too (Chromium 68 has no Array.prototype.flatMap)
  /** @type {Map<string, string>} */
  const partOf = new Map()
  for (const film of films) for (const part of film.parts) partOf.set(part.cid, `${filmName(film)} · ${part.name}`)
  return html`<p class="section-note">
      CIDs with fewer than ${replication.minReplicas} live copies (failed challenges do not count), fewest first
    </p>
    <ul class="cids">
      ${replication.lowest.map(
        entry =>
          html`<li key=${entry.cid}>
            <span title=${entry.cid}>${partOf.get(entry.cid) ?? html`<span class="mono">${shortId(entry.cid)}</span>`}</span>
            <span class="mono">${entry.copies} / ${replication.minReplicas}</span>
            ${entry.resting > 0 && html`<span class="mono">+ ${entry.resting} resting</span>`}
          </li>`
      )}
    </ul>`
}

function App() {
  const { value: fleet, error } = usePolling(loadFleet, everyPoll, true)
  return html`<div class="page">
    <header class="topbar">
      <div class="wordmark"><span class="wordmark-seed"></span>Seed One fleet</div>
      <div class="topbar-meta">
        ${error ? html`<span class="topbar-warn">Monitor unreachable: ${error.message}</span>` : fleet && `Updated ${new Date(fleet.generatedAt).toLocaleTimeString()}`}
      </div>
    </header>
    ${
      fleet === null
        ? html`<p class="empty">${error ? 'The monitor cannot be reached.' : 'Loading…'}</p>`
        : html`
            <${Summary} fleet=${fleet} />
            <h2>Films</h2>
            <${Films} films=${fleet.films} minReplicas=${fleet.replication.minReplicas} />
            <h2>Nodes</h2>
            <${Nodes} fleet=${fleet} />
            <h2>Replication health</h2>
            <${Replication} replication=${fleet.replication} films=${fleet.films} />
          `
    }
  </div>`
}

render(html`<${App} />`, /** @type {HTMLElement} */ (document.getElementById('app')))
