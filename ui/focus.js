// Remote-control focus navigation: the one module that moves focus.
// Arrow keys move to the spatially nearest focusable element in that direction (measured with
// getBoundingClientRect, so it follows the layout, not the DOM order); Enter is left to the browser
// (buttons and links activate natively); Back keys go to the most recently registered back handler.
// If focus is ever lost (the focused element left the page), it returns to the screen's
// [data-autofocus] element or its first focusable element, so a remote is never stranded.

/** @typedef {'left' | 'right' | 'up' | 'down'} Direction */

const FOCUSABLE = [
  'a[href]',
  'button:not([disabled])',
  'input:not([disabled])',
  'select:not([disabled])',
  'textarea:not([disabled])',
  'video[controls]',
  '[tabindex]:not([tabindex="-1"])'
].join(',')

/** @type {Record<string, Direction>} */
const DIRECTION_BY_KEY = { ArrowLeft: 'left', ArrowRight: 'right', ArrowUp: 'up', ArrowDown: 'down' }
/** @type {Record<number, Direction>} Older TV browsers only fill in keyCode. */
const DIRECTION_BY_KEYCODE = { 37: 'left', 38: 'up', 39: 'right', 40: 'down' }

const BACK_KEY_NAMES = new Set(['Escape', 'Backspace', 'GoBack', 'BrowserBack', 'XF86Back'])
/** Escape, Backspace, LG webOS Back (461), Samsung Tizen Back (10009). */
const BACK_KEYCODES = new Set([27, 8, 461, 10009])

/** @type {((event: KeyboardEvent) => void)[]} */
const backHandlers = []

/** @param {KeyboardEvent} event */
function isBackKey(event) {
  return BACK_KEY_NAMES.has(event.key) || BACK_KEYCODES.has(event.keyCode)
}

/**
 * @param {KeyboardEvent} event
 * @returns {Direction | undefined}
 */
function directionOf(event) {
  return DIRECTION_BY_KEY[event.key] ?? DIRECTION_BY_KEYCODE[event.keyCode]
}

/**
 * Registers what Back does on the current screen; the latest registration wins until it is removed.
 * @param {(event: KeyboardEvent) => void} handler
 * @returns {() => void} removes the handler
 */
export function onBack(handler) {
  backHandlers.push(handler)
  return () => {
    const index = backHandlers.lastIndexOf(handler)
    if (index !== -1) backHandlers.splice(index, 1)
  }
}

/** @param {Element} element */
function isShown(element) {
  if (element.closest('[inert], [hidden]')) return false
  const rect = element.getBoundingClientRect()
  return rect.width > 0 && rect.height > 0
}

function focusableElements() {
  return /** @type {HTMLElement[]} */ ([...document.querySelectorAll(FOCUSABLE)]).filter(isShown)
}

/** @param {Element | null} element */
function isTextEntry(element) {
  return element instanceof HTMLInputElement || element instanceof HTMLTextAreaElement
}

/**
 * Score of moving from `from` to `to` in `direction`: lower is nearer; Infinity if `to` is not in
 * that direction. The gap along the direction counts once, being out of line counts double, and the
 * distance between centres breaks ties (so Up from a wide bar picks the item above its middle).
 * @param {DOMRect} from
 * @param {DOMRect} to
 * @param {Direction} direction
 */
function directionalDistance(from, to, direction) {
  const horizontal = direction === 'left' || direction === 'right'
  const sign = direction === 'right' || direction === 'down' ? 1 : -1
  const [fromStart, fromEnd, toStart, toEnd] = horizontal
    ? [from.left, from.right, to.left, to.right]
    : [from.top, from.bottom, to.top, to.bottom]
  const [fromCrossStart, fromCrossEnd, toCrossStart, toCrossEnd] = horizontal
    ? [from.top, from.bottom, to.top, to.bottom]
    : [from.left, from.right, to.left, to.right]

  const fromCentre = (fromStart + fromEnd) / 2
  const toCentre = (toStart + toEnd) / 2
  if ((toCentre - fromCentre) * sign <= 0) return Infinity
  // The near edge of `to` must be past the far edge of `from`, allowing a little overlap
  // (a focused card grows with its focus transform).
  const gap = sign > 0 ? toStart - fromEnd : fromStart - toEnd
  const overlapAllowed = 0.3 * Math.min(fromEnd - fromStart, toEnd - toStart)
  if (gap < -overlapAllowed) return Infinity

  const crossGap = Math.max(0, Math.max(fromCrossStart, toCrossStart) - Math.min(fromCrossEnd, toCrossEnd))
  const crossCentreOffset = Math.abs((fromCrossStart + fromCrossEnd) / 2 - (toCrossStart + toCrossEnd) / 2)
  return Math.max(0, gap) + 2 * crossGap + 0.25 * crossCentreOffset
}

/**
 * The element nearest to `from` in `direction`, or undefined at an edge.
 * @param {Element} from
 * @param {HTMLElement[]} candidates
 * @param {Direction} direction
 * @returns {HTMLElement | undefined}
 */
function nearestInDirection(from, candidates, direction) {
  const fromRect = from.getBoundingClientRect()
  let best
  let bestScore = Infinity
  for (const candidate of candidates) {
    if (candidate === from) continue
    const score = directionalDistance(fromRect, candidate.getBoundingClientRect(), direction)
    if (score < bestScore) {
      best = candidate
      bestScore = score
    }
  }
  return best
}

/** @param {HTMLElement} element */
function focusElement(element) {
  element.focus({ preventScroll: true })
  const smooth = !matchMedia('(prefers-reduced-motion: reduce)').matches
  element.scrollIntoView({ block: 'nearest', inline: 'nearest', behavior: smooth ? 'smooth' : 'auto' })
}

/** Focuses the screen's [data-autofocus] element, or else its first focusable element. */
function focusInitial() {
  const preferred = [...document.querySelectorAll('[data-autofocus]')].find(isShown)
  const target = /** @type {HTMLElement | undefined} */ (preferred ?? focusableElements()[0])
  if (target) focusElement(target)
}

function focusIsLost() {
  const active = document.activeElement
  return !active || active === document.body || !active.isConnected
}

/**
 * Moves focus one step in `direction` (from nothing: to where a screen starts); stays put at an edge.
 * @param {Direction} direction
 */
function moveFocus(direction) {
  if (focusIsLost()) return focusInitial()
  const next = nearestInDirection(/** @type {Element} */ (document.activeElement), focusableElements(), direction)
  if (next) focusElement(next)
}

/** @param {KeyboardEvent} event */
function handleKeyDown(event) {
  if (event.defaultPrevented) return
  const active = document.activeElement
  if (isBackKey(event)) {
    if (event.key === 'Backspace' && isTextEntry(active)) return
    const handler = backHandlers[backHandlers.length - 1]
    if (!handler) return
    event.preventDefault()
    handler(event)
    return
  }
  const direction = directionOf(event)
  if (!direction) return
  if (isTextEntry(active) && (direction === 'left' || direction === 'right')) return
  event.preventDefault()
  moveFocus(direction)
}

/** Starts handling arrow and Back keys on the document, and keeps something focused as screens change. */
export function startFocusNavigation() {
  let checkPending = false
  const observer = new MutationObserver(() => {
    if (checkPending) return
    checkPending = true
    requestAnimationFrame(() => {
      checkPending = false
      if (focusIsLost()) focusInitial()
    })
  })
  observer.observe(document.body, { childList: true, subtree: true, attributes: true, attributeFilter: ['disabled', 'hidden', 'inert'] })
  document.addEventListener('keydown', handleKeyDown)
  if (focusIsLost()) focusInitial()
}
