// Shown until an owner pairs this box: the pairing code, kept fresh (the app watches for the pairing).
import { html } from 'htm/preact'
import { useEffect, useState } from 'preact/hooks'
import { getPairing } from '../api.js'
import { Loading, Message, Wordmark, shortId } from './common.js'

/** @typedef {import('../api.js').Status} Status */
/** @typedef {import('../api.js').Pairing} Pairing */

/** @param {number} ms */
function formatCountdown(ms) {
  const seconds = Math.max(0, Math.ceil(ms / 1000))
  return `${Math.floor(seconds / 60)}:${String(seconds % 60).padStart(2, '0')}`
}

/** Long codes without separators read better in groups of four. @param {string} code */
const groupCode = code => (/[\s-]/.test(code) || code.length < 8 ? code : code.replace(/(.{4})(?=.)/g, '$1 '))

/** @param {{ code: string }} props */
function PairingCode({ code }) {
  return html`<div class="pairing-code" aria-label=${`Pairing code ${code.split('').join(' ')}`}>
    ${[...groupCode(code)].map(char =>
      /[\s-]/.test(char)
        ? html`<span class="pairing-code-gap" aria-hidden="true"></span>`
        : html`<span class="pairing-code-char" aria-hidden="true">${char}</span>`
    )}
  </div>`
}

/** @param {{ status: Status }} props */
export function UnpairedScreen({ status }) {
  const [pairing, setPairing] = useState(/** @type {(Pairing & { receivedAt: number }) | null} */ (null))
  const [error, setError] = useState(/** @type {Error | null} */ (null))
  const [request, setRequest] = useState(0)
  const [now, setNow] = useState(Date.now())

  useEffect(() => {
    const controller = new AbortController()
    getPairing(controller.signal).then(
      answer => setPairing({ ...answer, receivedAt: Date.now() }),
      failure => {
        if (!controller.signal.aborted) setError(failure)
      }
    )
    return () => controller.abort()
  }, [request])

  // Tick the expiry countdown.
  useEffect(() => {
    const clock = setInterval(() => setNow(Date.now()), 1000)
    return () => clearInterval(clock)
  }, [])

  const renew = () => {
    setPairing(null)
    setError(null)
    setRequest(count => count + 1)
  }
  // A TV clock that disagrees with the box's would make every code look expired on arrival:
  // count down (and renew on expiry) only when the code looked valid when it came.
  const expiresAt = pairing ? Date.parse(pairing.expiresAt) : NaN
  const countdown = pairing !== null && expiresAt > pairing.receivedAt
  const expired = countdown && expiresAt <= now
  useEffect(() => {
    if (expired) renew()
  }, [expired])

  let body
  if (error) {
    body = html`<${Message} title="The pairing code could not be loaded" detail=${error.message} actionLabel="Retry" onAction=${renew} />`
  } else if (!pairing) {
    body = html`<${Loading} label="Getting a pairing code…" />`
  } else {
    body = html`<div class="pairing">
      <h1 class="pairing-title">This Seed One is not paired yet</h1>
      <p class="pairing-detail">
        On your phone or computer, open Seed One pairing, sign in with the wallet that holds your films, and enter this code.
      </p>
      <${PairingCode} code=${pairing.code} />
      <p class="pairing-expiry">${countdown ? `Code expires in ${formatCountdown(expiresAt - now)}` : ''}</p>
      <button class="button button-secondary" data-autofocus onClick=${renew}>Refresh code</button>
    </div>`
  }
  return html`<div class="screen unpaired">
    <header class="topbar"><${Wordmark} /></header>
    ${body}
    <footer class="device-footer">
      <span>Device <span class="mono">${shortId(status.deviceId)}</span></span>
      <span>Version ${status.version}</span>
    </footer>
  </div>`
}
