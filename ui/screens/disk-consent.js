// First boot found a USB disk that already holds data: nothing is erased until the owner says so here.
// Keeping the data is the safe choice and has focus; erasing asks again in a dialog.
import { html } from 'htm/preact'
import { useState } from 'preact/hooks'
import { decideDisk } from '../api.js'
import { formatBytes } from '../format.js'
import { Dialog, Loading, Message, TopBar } from '../components/common.js'

/** @typedef {import('../api.js').DiskConsent} DiskConsent */
/** @typedef {import('../api.js').DataDisk} DataDisk */

/** @param {DataDisk} disk */
const diskName = disk => disk.model ?? disk.label ?? disk.path

/** @param {{ disk: DataDisk }} props */
function DiskFacts({ disk }) {
  const volumes =
    disk.partitions.length > 0 ? disk.partitions : [{ name: disk.path, sizeBytes: disk.sizeBytes, fstype: disk.fstype, label: disk.label }]
  return html`<div class="disk">
    <p class="disk-name">${diskName(disk)} · ${formatBytes(disk.sizeBytes)}</p>
    <ul class="disk-volumes">
      ${volumes.map(
        volume =>
          html`<li>
            <span class="mono">${volume.name}</span>
            <span>${[volume.label && `“${volume.label}”`, volume.fstype, formatBytes(volume.sizeBytes)].filter(Boolean).join(' · ')}</span>
          </li>`
      )}
    </ul>
  </div>`
}

/** @param {{ consent: DiskConsent, onDecided: () => void, onCheckAgain: () => void }} props */
export function DiskConsentScreen({ consent, onDecided, onCheckAgain }) {
  const [confirming, setConfirming] = useState(false)
  const [busy, setBusy] = useState(false)
  const [error, setError] = useState(/** @type {string | null} */ (null))
  const disk = consent.disk

  /** @param {'erase' | 'keep'} decision */
  const decide = async decision => {
    if (!disk) return
    setBusy(true)
    setError(null)
    try {
      await decideDisk(decision, disk.id)
      onDecided()
    } catch (failure) {
      setError(/** @type {Error} */ (failure).message)
    } finally {
      setBusy(false)
      setConfirming(false)
    }
  }

  let body
  if (consent.state === 'applying') {
    body = html`<${Loading} label="Preparing the disk… This can take a few minutes." />`
  } else if (consent.state === 'failed' || !disk) {
    body = html`<${Message}
      title="The disk could not be prepared"
      detail=${consent.message}
      actionLabel="Check again"
      onAction=${onCheckAgain}
    />`
  } else {
    body = html`<div class="consent">
      <h1 class="screen-title">This disk already holds data</h1>
      <p class="consent-detail">
        Seed One keeps its films on a USB disk. The one connected has files on it. Erase it for Seed One, or keep its data and leave the
        disk alone.
      </p>
      <${DiskFacts} disk=${disk} />
      ${error && html`<p class="dialog-error" role="alert">${error}</p>`}
      <div class="actions">
        <button class="button button-secondary" data-autofocus disabled=${busy} onClick=${() => decide('keep')}>Keep its data</button>
        <button class="button button-danger" disabled=${busy} onClick=${() => setConfirming(true)}>Erase and use it…</button>
      </div>
      ${
        confirming &&
        html`<${Dialog} title=${`Erase ${diskName(disk)}?`} onClose=${() => setConfirming(false)} describedBy="erase-detail">
          <p id="erase-detail" class="dialog-detail">
            Everything on it (${formatBytes(disk.sizeBytes)}) is deleted for good. Seed One then keeps its films on it.
          </p>
          <div class="dialog-actions">
            <button class="button button-secondary" data-autofocus onClick=${() => setConfirming(false)}>Cancel</button>
            <button class="button button-danger" disabled=${busy} onClick=${() => decide('erase')}>Erase</button>
          </div>
        <//>`
      }
    </div>`
  }
  return html`<main class="screen disk-consent" data-screen="disk-consent">
    <${TopBar} />
    ${body}
  </main>`
}
