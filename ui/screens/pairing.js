// Pairing (and signing a TV in to a paired box, and renewing the box's authorisation before it ends): a
// short code and a QR code for the phone, kept fresh, and the screen moves on by itself when the owner
// has signed (the box signs this TV in, or shows the new expiry, on its next poll).
import { html } from 'htm/preact'
import { useEffect, useRef, useState } from 'preact/hooks'
import { getPairing } from '../api.js'
import { formatAuthorisationEnd, shortId } from '../format.js'
import { usePolling } from '../polling.js'
import { Loading, Message, TopBar, useBack } from '../components/common.js'

/** @typedef {import('../api.js').Status} Status */
/** @typedef {import('../api.js').Pairing} Pairing */

const POLL_MS = 2000
const pollDelay = (/** @type {Pairing} */ pairing) => (pairing.signedIn ? undefined : POLL_MS)
const renewPollDelay = () => POLL_MS

/** @param {number} ms */
function formatCountdown(ms) {
  const seconds = Math.max(0, Math.ceil(ms / 1000))
  return `${Math.floor(seconds / 60)}:${String(seconds % 60).padStart(2, '0')}`
}

/** @param {{ code: string }} props */
function PairingCode({ code }) {
  // focusable so the screen has somewhere for the remote to be; read out a character at a time
  const chars = [...code].map(char => html`<span class="pairing-code-char" aria-hidden="true">${char}</span>`)
  return html`<div class="pairing-code" role="group" tabindex="0" data-autofocus aria-label=${`Pairing code ${code.split('').join(' ')}`}>
    ${chars.slice(0, 4)}<span class="pairing-code-gap"></span>${chars.slice(4)}
  </div>`
}

/** @param {{ pairing: Pairing & { code: string } , receivedAt: number }} props */
function Countdown({ pairing, receivedAt }) {
  const [now, setNow] = useState(Date.now())
  useEffect(() => {
    const clock = setInterval(() => setNow(Date.now()), 1000)
    return () => clearInterval(clock)
  }, [])
  // A TV clock that disagrees with the box's would make every code look expired on arrival:
  // count down only when the code looked valid when it came (the poll brings the next code anyway).
  const expiresAt = Date.parse(pairing.expiresAt ?? '')
  if (!(expiresAt > receivedAt)) return html`<p class="pairing-expiry"></p>`
  return html`<p class="pairing-expiry">Code expires in ${formatCountdown(expiresAt - now)}</p>`
}

/**
 * @param {{ status: Status, renew?: boolean, onSignedIn: () => void, onPairedElsewhere: () => void, onBack?: () => void }} props
 *   renew: the owner's signed-in TV renews the box's authorisation (onSignedIn once the new one is kept);
 *   onPairedElsewhere: the box was paired (or unpaired) by another browser's code; onBack: a paired box's
 *   guest can go back to the library, an unpaired box has nowhere else to go
 */
export function PairingScreen({ status, renew = false, onSignedIn, onPairedElsewhere, onBack }) {
  useBack(onBack)
  const {
    value: pairing,
    error,
    retry
  } = usePolling((/** @type {AbortSignal} */ signal) => getPairing(signal, renew), renew ? renewPollDelay : pollDelay, true)
  const [receivedAt, setReceivedAt] = useState(0)
  const [qrFailed, setQrFailed] = useState(false)
  const firstEnd = useRef(/** @type {string | null | undefined} */ (undefined))
  useEffect(() => {
    if (!pairing) return
    if (renew) {
      if (firstEnd.current === undefined) firstEnd.current = pairing.authorisationExpiresAt ?? null
      if (!pairing.signedIn || !pairing.paired) onPairedElsewhere()
      else if ((pairing.authorisationExpiresAt ?? null) !== firstEnd.current) onSignedIn()
      else setReceivedAt(Date.now())
    } else if (pairing.signedIn) onSignedIn()
    else if (pairing.paired !== status.paired) onPairedElsewhere()
    else setReceivedAt(Date.now())
  }, [pairing?.signedIn, pairing?.paired, pairing?.code, pairing?.authorisationExpiresAt])

  const signingIn = status.paired
  let body
  if (pairing?.code && pairing.pairUrl) {
    body = html`<div class="pairing">
      <div class="pairing-text">
        <h1 class="pairing-title">${renew ? 'Renew the pairing' : signingIn ? 'Sign in to this Seed One' : 'Pair this Seed One'}</h1>
        ${
          renew &&
          html`<p class="pairing-detail">
            Your wallet authorises this box until ${formatAuthorisationEnd(pairing.authorisationExpiresAt)}. Signing this code authorises it
            for 30 days from then.
          </p>`
        }
        <p class="pairing-detail">
          Scan the code with your phone, or open <span class="pairing-url mono">${pairing.pairUrl.replace(/\?.*$/, '')}</span> and enter
          this code. Then sign in with ${signingIn ? 'the wallet that owns this box' : 'the wallet that holds your films'}.
        </p>
        <${PairingCode} code=${pairing.code} />
        <${Countdown} pairing=${pairing} receivedAt=${receivedAt} />
        ${onBack && html`<button class="button button-secondary" onClick=${onBack}>Not now</button>`}
      </div>
      ${
        !qrFailed &&
        html`<div class="pairing-qr">
          <img
            src=${`/api/pairing/qr.svg?code=${encodeURIComponent(pairing.code)}`}
            alt=${`QR code for ${pairing.pairUrl}`}
            onError=${() => setQrFailed(true)}
          />
        </div>`
      }
    </div>`
  } else if (error) {
    body = html`<${Message} title="The pairing code could not be loaded" detail=${error.message} actionLabel="Retry" onAction=${retry} />`
  } else {
    body = html`<${Loading} label=${pairing?.signedIn ? 'Signed in. Opening your library…' : 'Getting a pairing code…'} />`
  }
  return html`<main class="screen pairing-screen" data-screen="pairing">
    <${TopBar} />
    ${body}
    <footer class="device-footer">
      <span>Device <span class="mono">${shortId(status.deviceId)}</span></span>
      <span>Version ${status.version}</span>
    </footer>
  </main>`
}
