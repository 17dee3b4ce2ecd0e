// Settings rows made for a remote: Up/Down move between rows, ←/→ change a choice, Enter flips a switch.
import { html } from 'htm/preact'
import { remoteAction } from '../focus.js'

/**
 * @template T
 * @typedef {{ value: T, label: string }} Choice
 */

/**
 * @param {{ label: string, hint?: string, id: string }} props
 */
function RowText({ label, hint, id }) {
  return html`<span class="option-text">
    <span class="option-label" id=${`${id}-label`}>${label}</span>
    ${hint && html`<span class="option-hint" id=${`${id}-hint`}>${hint}</span>`}
  </span>`
}

/**
 * An on/off row.
 * @param {{ id: string, label: string, hint?: string, checked: boolean, readOnly: boolean, onChange: (checked: boolean) => void, autofocus?: boolean }} props
 */
export function SwitchRow({ id, label, hint, checked, readOnly, onChange, autofocus }) {
  return html`<button
    class="option"
    role="switch"
    aria-checked=${checked ? 'true' : 'false'}
    aria-disabled=${readOnly ? 'true' : undefined}
    aria-labelledby=${`${id}-label`}
    aria-describedby=${hint ? `${id}-hint` : undefined}
    data-focus-key=${id}
    data-autofocus=${autofocus || undefined}
    onClick=${() => {
      if (!readOnly) onChange(!checked)
    }}
  >
    <${RowText} id=${id} label=${label} hint=${hint} />
    <span class=${`switch ${checked ? 'switch-on' : ''}`} aria-hidden="true"><span class="switch-knob"></span></span>
  </button>`
}

/**
 * A row that steps through choices with ←/→ (clicking steps forward, wrapping, for a pointer).
 * @template T
 * @param {{ id: string, label: string, hint?: string, choices: Choice<T>[], value: T, readOnly: boolean, onChange: (value: T) => void }} props
 */
export function ChoiceRow({ id, label, hint, choices, value, readOnly, onChange }) {
  const index = Math.max(
    0,
    choices.findIndex(choice => choice.value === value)
  )
  /** @param {number} to */
  const step = to => {
    if (!readOnly && to >= 0 && to < choices.length && to !== index) onChange(choices[to].value)
  }
  /** @param {KeyboardEvent} event */
  const keyDown = event => {
    const action = remoteAction(event)
    if (action !== 'left' && action !== 'right') return
    event.preventDefault() // the arrows change the value here: navigation leaves this row with Up/Down
    step(action === 'left' ? index - 1 : index + 1)
  }
  return html`<div
    class="option"
    role="slider"
    tabindex="0"
    aria-labelledby=${`${id}-label`}
    aria-describedby=${hint ? `${id}-hint` : undefined}
    aria-disabled=${readOnly ? 'true' : undefined}
    aria-valuemin="0"
    aria-valuemax=${choices.length - 1}
    aria-valuenow=${index}
    aria-valuetext=${choices[index]?.label}
    data-focus-key=${id}
    onKeyDown=${keyDown}
    onClick=${() => step((index + 1) % choices.length)}
  >
    <${RowText} id=${id} label=${label} hint=${hint} />
    <span class="choice" aria-hidden="true">
      <span class=${`choice-arrow ${index > 0 ? '' : 'choice-arrow-off'}`}>‹</span>
      <span class="choice-value">${choices[index]?.label}</span>
      <span class=${`choice-arrow ${index < choices.length - 1 ? '' : 'choice-arrow-off'}`}>›</span>
    </span>
  </div>`
}
