// The fleet dashboard: every node the monitor knows, and the network's replication health.
import { html, render } from 'htm/preact'
import { formatBytes } from '../format.js'
import { usePolling } from '../polling.js'
import { formatAgo, formatDuration, formatPercent, shortId } from './format.js'

/**
 * GET /api/fleet, as the monitor types it.
 * @typedef {import('../../server/monitor/fleet.ts').Fleet} Fleet
 * @typedef {import('../../server/monitor/fleet.ts').FleetNode} FleetNode
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

/** @param {{ label: string, value: string | number, note?: string, alert?: boolean }} props */
function Figure({ label, value, note, alert }) {
  return html`<div class=${`figure${alert ? ' figure-alert' : ''}`}>
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
  return html`<section class="figures" aria-label="Summary">
    <${Figure}
      label="Nodes live"
      value=${`${live} / ${fleet.nodes.length}`}
      note=${`${resting} resting in an announced window; no report for ${formatDuration(fleet.nodeTimeoutSec)} otherwise: down`}
      alert=${live + resting < fleet.nodes.length}
    />
    <${Figure} label="CIDs kept" value=${replication.cids} />
    <${Figure}
      label=${`Under ${replication.minReplicas} copies`}
      value=${replication.underReplicated}
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

/** @param {{ replication: ReplicationHealth }} props */
function Replication({ replication }) {
  if (replication.lowest.length === 0) {
    return html`<p class="empty">Every CID has at least ${replication.minReplicas} live copies.</p>`
  }
  return html`<p class="section-note">
      CIDs with fewer than ${replication.minReplicas} live copies (failed challenges do not count), fewest first
    </p>
    <ul class="cids">
      ${replication.lowest.map(
        entry =>
          html`<li key=${entry.cid}>
            <span class="mono" title=${entry.cid}>${shortId(entry.cid)}</span>
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
            <h2>Nodes</h2>
            <${Nodes} fleet=${fleet} />
            <h2>Replication health</h2>
            <${Replication} replication=${fleet.replication} />
          `
    }
  </div>`
}

render(html`<${App} />`, /** @type {HTMLElement} */ (document.getElementById('app')))
