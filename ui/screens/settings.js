// Settings: the owner and the device, the share of disk and uplink given to the network (with quiet
// hours), developer mode, and Unpair behind a confirmation. Each change is saved at once.
import { html } from 'htm/preact'
import { useEffect, useRef, useState } from 'preact/hooks'
import { getPairing, getSettings, putSettings, unpair } from '../api.js'
import { formatAuthorisationEnd, formatBitRate, formatBytes } from '../format.js'
import { renewHash, signInHash } from '../routes.js'
import { Dialog, Loading, Message, TopBar, useBack } from '../components/common.js'
import { ChoiceRow, SwitchRow } from '../components/option-rows.js'

/** @typedef {import('../api.js').DeviceSettings} DeviceSettings */
/** @typedef {import('../api.js').Status} Status */

const GIB = 1024 ** 3
const QUOTA_CHOICES_GIB = [10, 25, 50, 100, 250, 500, 1024, 2048, 4096]
const UPLOAD_CHOICES_MBIT = [1, 2, 5, 10, 20, 50, 100]
const DEFAULT_QUIET_HOURS = { start: '23:00', end: '07:00' }
/** Changes made in quick succession (a run of ←/→) are saved once. */
const SAVE_SETTLE_MS = 400

/**
 * Preset choices, plus the current value where it is not one of them (set by an earlier version or by hand).
 * @param {number[]} presets
 * @param {number} current
 * @param {(value: number) => string} label
 */
function choicesWith(presets, current, label) {
  const values = presets.includes(current) ? presets : [...presets, current].sort((a, b) => a - b)
  return values.map(value => ({ value, label: label(value) }))
}

const CLOCK_CHOICES = Array.from({ length: 48 }, (_, i) => {
  const value = `${String(Math.floor(i / 2)).padStart(2, '0')}:${i % 2 === 0 ? '00' : '30'}`
  return { value, label: value }
})

/** @param {string} current */
const clockChoices = current =>
  CLOCK_CHOICES.some(choice => choice.value === current)
    ? CLOCK_CHOICES
    : [...CLOCK_CHOICES, { value: current, label: current }].sort((a, b) => a.value.localeCompare(b.value))

/**
 * Keeps the settings shown and saves changes: optimistic, one save at a time, the last change wins; a
 * refused save puts back what the box holds.
 */
function useSettings() {
  const saved = useRef(/** @type {DeviceSettings | null} */ (null))
  const [shown, setShown] = useState(/** @type {DeviceSettings | null} */ (null))
  const [loadError, setLoadError] = useState(/** @type {Error | null} */ (null))
  const [saveState, setSaveState] = useState(
    /** @type {{ kind: 'idle' | 'saving' | 'saved' } | { kind: 'failed', message: string }} */ ({ kind: 'idle' })
  )
  const [round, setRound] = useState(0)
  const timer = useRef(/** @type {ReturnType<typeof setTimeout> | undefined} */ (undefined))
  const queue = useRef(/** @type {Promise<unknown>} */ (Promise.resolve()))

  useEffect(() => {
    const controller = new AbortController()
    getSettings(controller.signal).then(
      settings => {
        saved.current = settings
        setShown(settings)
      },
      error => {
        if (!controller.signal.aborted) setLoadError(error)
      }
    )
    return () => {
      controller.abort()
      clearTimeout(timer.current)
    }
  }, [round])

  /** @param {DeviceSettings} next */
  const change = next => {
    setShown(next)
    setSaveState({ kind: 'saving' })
    clearTimeout(timer.current)
    timer.current = setTimeout(async () => {
      // one save at a time, in order: the box keeps the last change
      const save = queue.current.then(() => putSettings(next))
      queue.current = save.catch(() => {})
      try {
        const stored = await save
        saved.current = stored
        setShown(current => (current === next ? stored : current))
        setSaveState({ kind: 'saved' })
      } catch (error) {
        setShown(saved.current)
        setSaveState({ kind: 'failed', message: /** @type {Error} */ (error).message })
      }
    }, SAVE_SETTLE_MS)
  }
  const retry = () => {
    setLoadError(null)
    setRound(count => count + 1)
  }
  return { settings: shown, loadError, saveState, change, retry }
}

/**
 * When the owner's authorisation of this box ends (30 days after it was signed): until then custodians
 * release film keys to it. Renewing is signing the TV's code again.
 */
function AuthorisationRow() {
  const [pairing, setPairing] = useState(/** @type {import('../api.js').Pairing | null} */ (null))
  useEffect(() => {
    const controller = new AbortController()
    getPairing(controller.signal).then(setPairing, () => {})
    return () => controller.abort()
  }, [])
  if (!pairing || pairing.authorisationExpiresAt === undefined) return null
  const due = pairing.renewalDue === true
  return html`<div class="option option-static">
    <span class="option-text">
      <span class="option-label">Authorised until ${formatAuthorisationEnd(pairing.authorisationExpiresAt)}</span>
      <span class="option-hint">
        ${due ? 'Renew now: after that date this box gets no film keys. ' : ''}Renewing is signing a code with the owner's wallet again.
      </span>
    </span>
    <a class=${`button button-small ${due ? 'button-primary' : 'button-secondary'}`} href=${renewHash} data-focus-key="renew">Renew…</a>
  </div>`
}

/** @param {{ onCancel: () => void, onUnpaired: () => void }} props */
function UnpairDialog({ onCancel, onUnpaired }) {
  const [busy, setBusy] = useState(false)
  const [error, setError] = useState(/** @type {string | null} */ (null))
  const confirm = async () => {
    setBusy(true)
    setError(null)
    try {
      await unpair()
      onUnpaired()
    } catch (failure) {
      setBusy(false)
      setError(/** @type {Error} */ (failure).message)
    }
  }
  return html`<${Dialog} title="Unpair this Seed One?" onClose=${onCancel} describedBy="unpair-detail">
    <p id="unpair-detail" class="dialog-detail">
      The box forgets its owner, signs every browser out and stops keeping your films. To use it again, pair it with the code it shows.
    </p>
    ${error && html`<p class="dialog-error" role="alert">${error}</p>`}
    <div class="dialog-actions">
      <button class="button button-secondary" data-autofocus onClick=${onCancel}>Cancel</button>
      <button class="button button-danger" disabled=${busy} onClick=${confirm}>${busy ? 'Unpairing…' : 'Unpair'}</button>
    </div>
  <//>`
}

/**
 * @param {{ status: Status, signedIn: boolean, onBack: () => void, onUnpaired: () => void }} props
 */
export function SettingsScreen({ status, signedIn, onBack, onUnpaired }) {
  useBack(onBack)
  const { settings, loadError, saveState, change, retry } = useSettings()
  const [confirming, setConfirming] = useState(false)
  const readOnly = !signedIn

  let body
  if (loadError) {
    body = html`<${Message}
      heading="h2"
      title="Settings could not be loaded"
      detail=${loadError.message}
      actionLabel="Retry"
      onAction=${retry}
    />`
  } else if (!settings) {
    body = html`<${Loading} label="Loading settings…" />`
  } else {
    const replication = settings.replication
    /** @param {Partial<DeviceSettings['replication']>} patch */
    const changeReplication = patch => change({ ...settings, replication: { ...replication, ...patch } })
    const quiet = replication.quietHours
    body = html`
      ${
        readOnly &&
        html`<div class="notice">
          <span>Only the owner can change settings. Sign in with the owner's wallet to change them.</span>
          <a class="button button-small button-primary" href=${signInHash} data-autofocus data-focus-key="sign-in">Sign in</a>
        </div>`
      }
      <section class="settings-section" aria-labelledby="device-title">
        <h2 id="device-title" class="section-title">This Seed One</h2>
        <dl class="facts-table">
          <div>
            <dt>Owner</dt>
            <dd>${status.paired ? "Paired with the owner's wallet" : 'Not paired'}</dd>
          </div>
          <div>
            <dt>Version</dt>
            <dd>${status.version}</dd>
          </div>
        </dl>
      </section>
      <section class="settings-section" aria-labelledby="network-title">
        <h2 id="network-title" class="section-title">Helping the network</h2>
        <${SwitchRow}
          id="replication"
          label="Keep copies of other people's films"
          hint="Spare disk and upload keep the network's films safe. They stay encrypted: this box cannot play them."
          checked=${replication.enabled}
          readOnly=${readOnly}
          autofocus=${!readOnly}
          onChange=${(/** @type {boolean} */ enabled) => changeReplication({ enabled })}
        />
        <${ChoiceRow}
          id="quota"
          label="Disk for the network"
          hint="Your own films never count against it."
          choices=${choicesWith(
            QUOTA_CHOICES_GIB.map(gib => gib * GIB),
            settings.storageQuotaBytes,
            formatBytes
          )}
          value=${settings.storageQuotaBytes}
          readOnly=${readOnly}
          onChange=${(/** @type {number} */ storageQuotaBytes) => change({ ...settings, storageQuotaBytes })}
        />
        <${ChoiceRow}
          id="upload-cap"
          label="Upload limit"
          hint="Your own playback always comes first."
          choices=${choicesWith([0, ...UPLOAD_CHOICES_MBIT.map(mbit => mbit * 125_000)], replication.uploadCapBytesPerSec, bytes =>
            bytes === 0 ? 'No limit' : formatBitRate(bytes)
          )}
          value=${replication.uploadCapBytesPerSec}
          readOnly=${readOnly}
          onChange=${(/** @type {number} */ uploadCapBytesPerSec) => changeReplication({ uploadCapBytesPerSec })}
        />
        <${SwitchRow}
          id="quiet-hours"
          label="Quiet hours"
          hint="No sharing during these hours, every day."
          checked=${quiet !== null}
          readOnly=${readOnly}
          onChange=${(/** @type {boolean} */ on) => changeReplication({ quietHours: on ? DEFAULT_QUIET_HOURS : null })}
        />
        ${
          quiet &&
          html`<${ChoiceRow}
              id="quiet-start"
              label="Quiet from"
              choices=${clockChoices(quiet.start)}
              value=${quiet.start}
              readOnly=${readOnly}
              onChange=${(/** @type {string} */ start) => changeReplication({ quietHours: { ...quiet, start } })}
            />
            <${ChoiceRow}
              id="quiet-end"
              label="Quiet until"
              choices=${clockChoices(quiet.end)}
              value=${quiet.end}
              readOnly=${readOnly}
              onChange=${(/** @type {string} */ end) => changeReplication({ quietHours: { ...quiet, end } })}
            />`
        }
      </section>
      <section class="settings-section" aria-labelledby="developer-title">
        <h2 id="developer-title" class="section-title">Developer</h2>
        <${SwitchRow}
          id="developer-mode"
          label="Developer mode"
          hint="Shows test and development films in the library, labelled as such."
          checked=${settings.developerMode}
          readOnly=${readOnly}
          onChange=${(/** @type {boolean} */ developerMode) => change({ ...settings, developerMode })}
        />
      </section>
      ${
        signedIn &&
        html`<section class="settings-section" aria-labelledby="pairing-title">
          <h2 id="pairing-title" class="section-title">Pairing</h2>
          <${AuthorisationRow} />
          <div class="option option-static">
            <span class="option-text">
              <span class="option-label">Unpair this Seed One</span>
              <span class="option-hint">For giving the box away or pairing another wallet.</span>
            </span>
            <button class="button button-small button-danger" data-focus-key="unpair" onClick=${() => setConfirming(true)}>Unpair…</button>
          </div>
        </section>`
      }
      ${confirming && html`<${UnpairDialog} onCancel=${() => setConfirming(false)} onUnpaired=${onUnpaired} />`}
    `
  }
  return html`<main class="screen settings" data-screen="settings">
    <${TopBar}>
      <span class="topbar-note" role="status">
        ${saveState.kind === 'saving' ? 'Saving…' : saveState.kind === 'saved' ? 'Saved' : saveState.kind === 'failed' ? `Not saved: ${saveState.message}` : ''}
      </span>
    <//>
    <h1 class="screen-title">Settings</h1>
    <div class="settings-body">${body}</div>
  </main>`
}
