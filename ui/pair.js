// The pairing page, opened on a phone or laptop from the TV's QR code (/pair?code=…): the owner's
// wallet signs the box's EIP-4361 message, through an injected EIP-1193 wallet (window.ethereum) or
// by hand (copy the message, paste the signature), and the box pairs, signing this browser and the TV in.
// The page shows the code it is about to sign and asks the owner to check it on their own TV first: a
// link from a guest would otherwise sign the guest's screen in. The owner revokes a device here too.
import { html, render } from 'htm/preact'
import { useEffect, useState } from 'preact/hooks'
import { getPairingMessage, getRevocationMessage, getStatus, postPairing, postRevocation } from './api.js'
import { Wordmark } from './components/common.js'

/** @typedef {{ request(args: { method: string, params?: unknown[] }): Promise<any> }} Eip1193Provider */

const CODE_PATTERN = /^[A-Z0-9]{8}$/
const ADDRESS_PATTERN = /^0x[0-9a-fA-F]{40}$/
const SIGNATURE_PATTERN = /^0x[0-9a-fA-F]{130,}$/
const DEVICE_PATTERN = /^[1-9A-HJ-NP-Za-km-z]{40,60}$/

/** @returns {Eip1193Provider | undefined} */
const injectedWallet = () => /** @type {any} */ (window).ethereum

/** personal_sign takes the message as hex of its UTF-8 bytes. @param {string} text */
function utf8Hex(text) {
  return `0x${Array.from(new TextEncoder().encode(text), byte => byte.toString(16).padStart(2, '0')).join('')}`
}

/** A wallet's refusal in words: EIP-1193 code 4001 is the owner saying no. @param {unknown} error */
function walletError(error) {
  const failure = /** @type {{ code?: number, message?: string }} */ (error)
  if (failure?.code === 4001) return 'The wallet did not sign: the request was declined.'
  return failure?.message ?? String(error)
}

/** @param {string} code */
const normaliseCode = code => code.toUpperCase().replace(/[^A-Z0-9]/g, '')

/** The wallet's account and its signature of the message `messageFor(account)` gives. @param {(account: string) => Promise<string>} messageFor */
async function signWithInjectedWallet(messageFor) {
  const wallet = /** @type {Eip1193Provider} */ (injectedWallet())
  try {
    const accounts = await wallet.request({ method: 'eth_requestAccounts' })
    const signer = accounts?.[0]
    if (typeof signer !== 'string') throw new Error('The wallet shared no account.')
    const message = await messageFor(signer)
    const signature = await wallet.request({ method: 'personal_sign', params: [utf8Hex(message), signer] })
    return { message, signature }
  } catch (failure) {
    throw new Error(walletError(failure))
  }
}

/** The code as the TV shows it: two groups of four. @param {string} code */
const displayedCode = code => `${code.slice(0, 4)} ${code.slice(4)}`

/**
 * @param {{ label: string, id: string, value: string, onInput?: (value: string) => void, hint?: string, multiline?: boolean, readOnly?: boolean, placeholder?: string }} props
 */
function Field({ label, id, value, onInput, hint, multiline, readOnly, placeholder }) {
  const common = {
    id,
    value,
    readOnly,
    placeholder,
    spellcheck: false,
    autocomplete: 'off',
    'aria-describedby': hint ? `${id}-hint` : undefined,
    onInput: (/** @type {Event} */ event) => onInput?.(/** @type {HTMLInputElement} */ (event.currentTarget).value)
  }
  return html`<div class="field">
    <label for=${id}>${label}</label>
    ${multiline ? html`<textarea rows="6" ...${common}></textarea>` : html`<input type="text" ...${common} />`}
    ${hint && html`<p class="field-hint" id=${`${id}-hint`}>${hint}</p>`}
  </div>`
}

function PairPage() {
  const [code, setCode] = useState(() => normaliseCode(new URLSearchParams(location.search).get('code') ?? ''))
  const [paired, setPaired] = useState(/** @type {boolean | null} */ (null))
  const [busy, setBusy] = useState(false)
  const [error, setError] = useState(/** @type {string | null} */ (null))
  const [done, setDone] = useState(/** @type {{ owner: string, newlyPaired: boolean } | null} */ (null))
  const [manual, setManual] = useState(() => injectedWallet() === undefined)
  const [address, setAddress] = useState('')
  const [message, setMessage] = useState('')
  const [signature, setSignature] = useState('')
  const [copied, setCopied] = useState(false)
  // the code is signed only once the owner says their own TV shows it
  const [codeChecked, setCodeChecked] = useState(false)

  // Whether the box is paired yet decides the words (pair, or sign in); nothing is sent until it is known.
  useEffect(() => {
    getStatus().then(
      status => setPaired(status.paired),
      failure => setError(failure.message)
    )
  }, [])

  const codeOk = CODE_PATTERN.test(code) && codeChecked
  const ready = paired !== null && !busy
  /** @param {() => Promise<void>} work */
  const attempt = async work => {
    setBusy(true)
    setError(null)
    try {
      await work()
    } catch (failure) {
      setError(failure instanceof Error ? failure.message : walletError(failure))
    } finally {
      setBusy(false)
    }
  }
  /** @param {string} signedMessage @param {string} signed */
  const send = async (signedMessage, signed) => {
    const answer = await postPairing(signedMessage, signed)
    setDone({ owner: answer.owner, newlyPaired: paired === false })
  }

  const signWithWallet = () =>
    attempt(async () => {
      const { message: signedMessage, signature: signed } = await signWithInjectedWallet(signer => getPairingMessage(signer, code))
      await send(signedMessage, signed)
    })

  const showMessage = () =>
    attempt(async () => {
      setMessage(await getPairingMessage(address.trim(), code))
      setCopied(false)
    })

  const copyMessage = async () => {
    try {
      await navigator.clipboard.writeText(message)
      setCopied(true)
    } catch {
      setError('This browser would not copy: select the message and copy it by hand.')
    }
  }

  if (done) {
    return html`<main class="pair">
      <${Wordmark} />
      <h1>${done.newlyPaired ? 'Paired' : 'Signed in'}</h1>
      <p class="lead" role="status">
        ${done.newlyPaired ? 'This Seed One now belongs to' : 'Signed in as the owner,'} <span class="mono">${done.owner}</span>. Your TV
        carries on by itself.
      </p>
      <a class="button button-primary" href="/">Open Seed One here</a>
    </main>`
  }

  const title = paired ? 'Sign in to Seed One' : 'Pair Seed One'
  return html`<main class="pair">
    <${Wordmark} />
    <h1>${title}</h1>
    <p class="lead">
      ${
        paired
          ? 'Sign with the wallet that owns this Seed One to sign your TV (and this browser) in.'
          : 'Sign with the wallet that holds your films. The box never sees your keys: it keeps only this signature.'
      }
    </p>
    <${Field}
      id="code"
      label="Code on the TV"
      value=${code}
      onInput=${(/** @type {string} */ value) => {
        setCode(normaliseCode(value))
        setCodeChecked(false)
      }}
      hint=${CODE_PATTERN.test(code) || code === '' ? undefined : 'The code has 8 letters and digits.'}
    />
    ${
      CODE_PATTERN.test(code) &&
      html`<div class="field code-check">
        <p class="lead">You are about to sign in the screen showing <strong class="mono">${displayedCode(code)}</strong></p>
        <label>
          <input
            type="checkbox"
            id="code-checked"
            checked=${codeChecked}
            onChange=${(/** @type {Event} */ event) => setCodeChecked(/** @type {HTMLInputElement} */ (event.currentTarget).checked)}
          />
          My own TV shows this code. (Never sign a code someone sent you: it would sign their screen in.)
        </label>
      </div>`
    }
    ${
      !manual &&
      html`<div class="actions">
        <button class="button button-primary" disabled=${!ready || !codeOk} onClick=${signWithWallet}>
          ${busy ? 'Waiting for the wallet…' : 'Sign with my wallet'}
        </button>
        <button class="button-link" onClick=${() => setManual(true)}>My wallet is not in this browser</button>
      </div>`
    }
    ${
      manual &&
      html`<section class="manual" aria-labelledby="manual-title">
        <h2 id="manual-title">Sign by hand</h2>
        ${!injectedWallet() && html`<p class="field-hint">No wallet was found in this browser. Sign the message in your wallet app and paste the signature here.</p>`}
        <${Field} id="address" label="Wallet address" placeholder="0x…" value=${address} onInput=${setAddress} />
        <button
          class="button button-secondary"
          disabled=${!ready || !codeOk || !ADDRESS_PATTERN.test(address.trim())}
          onClick=${showMessage}
        >
          Show the message to sign
        </button>
        ${
          message &&
          html`<${Field} id="message" label="Message to sign" value=${message} readOnly multiline />
            <button class="button button-secondary" onClick=${copyMessage}>${copied ? 'Copied' : 'Copy the message'}</button>
            <${Field}
              id="signature"
              label="Signature"
              placeholder="0x…"
              hint="Sign the message exactly as shown (personal_sign), then paste the signature."
              value=${signature}
              onInput=${setSignature}
              multiline
            />
            <button
              class="button button-primary"
              disabled=${!ready || !SIGNATURE_PATTERN.test(signature.trim())}
              onClick=${() => attempt(() => send(message, signature.trim()))}
            >
              Send the signature
            </button>`
        }
      </section>`
    }
    ${error && html`<p class="error" role="alert">${error}</p>`} ${paired && html`<${RevokeSection} />`}
  </main>`
}

/**
 * Revoking a device (a lost or resold box, a copied data directory): the owner's wallet signs a revocation
 * naming its device id (shown in its Settings), and this box relays it to the custodians of the owner's films,
 * which refuse that device every key under an authorisation signed before now.
 */
function RevokeSection() {
  const [open, setOpen] = useState(false)
  const [deviceId, setDeviceId] = useState('')
  const [busy, setBusy] = useState(false)
  const [error, setError] = useState(/** @type {string | null} */ (null))
  const [result, setResult] = useState(/** @type {Awaited<ReturnType<typeof postRevocation>> | null} */ (null))
  if (!open) return html`<button class="button-link" onClick=${() => setOpen(true)}>Revoke a device…</button>`
  const revoke = async () => {
    setBusy(true)
    setError(null)
    try {
      const { message, signature } = await signWithInjectedWallet(signer => getRevocationMessage(signer, deviceId.trim()))
      setResult(await postRevocation(message, signature))
    } catch (failure) {
      setError(failure instanceof Error ? failure.message : walletError(failure))
    } finally {
      setBusy(false)
    }
  }
  return html`<section class="manual" aria-labelledby="revoke-title">
    <h2 id="revoke-title">Revoke a device</h2>
    <p class="field-hint">
      The device stops receiving the keys of your films until you pair it again. Its id is in its Settings, under Device.
    </p>
    <${Field} id="revoke-device" label="Device id" placeholder="12D3KooW…" value=${deviceId} onInput=${setDeviceId} />
    <button class="button button-danger" disabled=${busy || !injectedWallet() || !DEVICE_PATTERN.test(deviceId.trim())} onClick=${revoke}>
      ${busy ? 'Waiting for the wallet…' : 'Sign the revocation'}
    </button>
    ${!injectedWallet() && html`<p class="field-hint">Revoking needs a wallet in this browser.</p>`}
    ${
      result &&
      html`<ul role="status">
        ${result.deliveries.length === 0 && html`<li>No custodian to tell: this box holds none of your films.</li>`}
        ${result.deliveries.map(
          d =>
            html`<li>
              ${d.delivered ? 'Revoked at' : 'Not delivered to'} <span class="mono">${d.custodianUrl}</span>${d.error ? `: ${d.error}` : ''}
            </li>`
        )}
      </ul>`
    }
    ${error && html`<p class="error" role="alert">${error}</p>`}
  </section>`
}

render(html`<${PairPage} />`, /** @type {HTMLElement} */ (document.getElementById('app')))
