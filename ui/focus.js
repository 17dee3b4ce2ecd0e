// The remote control: the one module that reads keys and moves focus (like Jellyfin-web's focusManager).
// - Arrow keys move to the spatially nearest focusable element in that direction, measured with
//   getBoundingClientRect, so navigation follows the layout, not the DOM order.
// - Focus scopes (dialogs, menus) confine navigation to themselves and give focus back when they close.
// - Back (Escape, Backspace, webOS 461, Tizen 10009) runs the newest back handler: one level up.
// - Screens may take keys first (the player takes media keys and seeks) through onRemoteKey.
// - Every screen keeps something focused: when focus is lost it goes to the element this screen had
//   focused last time (data-focus-key), else its [data-autofocus] element, else its first focusable one.
// TV browsers often fill in only keyCode (key is "Unidentified"), so every key is recognised by either.

/** @typedef {'left' | 'right' | 'up' | 'down'} Direction */
/** @typedef {Direction | 'enter' | 'back' | 'playPause' | 'play' | 'pause' | 'stop' | 'rewind' | 'fastForward' | 'nextChapter' | 'previousChapter'} RemoteAction */

const FOCUSABLE = [
  'a[href]',
  'button:not([disabled])',
  'input:not([disabled])',
  'select:not([disabled])',
  'textarea:not([disabled])',
  '[tabindex]:not([tabindex="-1"])'
].join(',')

/** @type {Record<string, RemoteAction>} */
const ACTION_BY_KEY = {
  ArrowLeft: 'left',
  ArrowRight: 'right',
  ArrowUp: 'up',
  ArrowDown: 'down',
  Enter: 'enter',
  Escape: 'back',
  Backspace: 'back',
  GoBack: 'back',
  BrowserBack: 'back',
  XF86Back: 'back',
  MediaPlayPause: 'playPause',
  MediaPlay: 'play',
  MediaPause: 'pause',
  MediaStop: 'stop',
  MediaRewind: 'rewind',
  MediaFastForward: 'fastForward',
  // the player's chapter skip: channel up/down, which every TV remote has, and the track keys of those that have them
  ChannelUp: 'nextChapter',
  ChannelDown: 'previousChapter',
  MediaTrackNext: 'nextChapter',
  MediaTrackPrevious: 'previousChapter',
  // LG's channel keys arrive as these
  PageUp: 'nextChapter',
  PageDown: 'previousChapter'
}

/**
 * Key codes, for remotes that send nothing else: arrows, Enter, Escape, Backspace, Pause (19),
 * webOS Back (461), Tizen Back (10009), media keys rewind/stop/play/fast-forward (412/413/415/417),
 * Tizen play/pause (10252), channel up/down (Tizen 427/428, webOS 33/34 as PageUp/PageDown), Tizen's
 * next/previous track (10233/10232) and the PC keyboard's (176/177).
 * @type {Record<number, RemoteAction>}
 */
const ACTION_BY_KEYCODE = {
  37: 'left',
  38: 'up',
  39: 'right',
  40: 'down',
  13: 'enter',
  27: 'back',
  8: 'back',
  461: 'back',
  10009: 'back',
  19: 'pause',
  412: 'rewind',
  413: 'stop',
  415: 'play',
  417: 'fastForward',
  10252: 'playPause',
  33: 'nextChapter',
  34: 'previousChapter',
  427: 'nextChapter',
  428: 'previousChapter',
  10233: 'nextChapter',
  10232: 'previousChapter',
  176: 'nextChapter',
  177: 'previousChapter'
}

/**
 * What a key means on a remote, or undefined for any other key.
 * @param {KeyboardEvent} event
 * @returns {RemoteAction | undefined}
 */
export function remoteAction(event) {
  return ACTION_BY_KEY[event.key] ?? ACTION_BY_KEYCODE[event.keyCode]
}

/** @type {((event: KeyboardEvent) => void)[]} */
const backHandlers = []
/** @type {((action: RemoteAction, event: KeyboardEvent) => boolean)[]} */
const keyHandlers = []
/** @type {{ root: HTMLElement, opener: Element | null }[]} */
const scopes = []
/** The focus key last focused on each screen, so returning to a screen returns to where the owner was. */
const remembered = new Map()

/**
 * @template T
 * @param {T[]} stack
 * @param {T} entry
 * @returns {() => void} removes the entry
 */
function push(stack, entry) {
  stack.push(entry)
  return () => {
    const index = stack.lastIndexOf(entry)
    if (index !== -1) stack.splice(index, 1)
  }
}

/**
 * Registers what Back does on the current screen; the newest registration wins until it is removed.
 * @param {(event: KeyboardEvent) => void} handler
 * @returns {() => void} removes the handler
 */
export const onBack = handler => push(backHandlers, handler)

/**
 * Lets a screen take keys before navigation does (the player's media keys and seeking); the newest
 * handler is asked first, and the key is consumed when it returns true.
 * @param {(action: RemoteAction, event: KeyboardEvent) => boolean} handler
 * @returns {() => void} removes the handler
 */
export const onRemoteKey = handler => push(keyHandlers, handler)

/** @param {Element} element */
function isShown(element) {
  if (element.closest('[inert], [hidden]')) return false
  const rect = element.getBoundingClientRect()
  return rect.width > 0 && rect.height > 0
}

/** The element navigation is confined to: the newest open scope, else the whole page. */
function currentRoot() {
  return scopes.length > 0 ? scopes[scopes.length - 1].root : document.body
}

/** @param {Element} root */
function focusableElements(root) {
  return /** @type {HTMLElement[]} */ ([...root.querySelectorAll(FOCUSABLE)]).filter(isShown)
}

/** @param {Element | null} element */
function isTextEntry(element) {
  return (
    (element instanceof HTMLInputElement && !['checkbox', 'radio', 'button'].includes(element.type)) ||
    element instanceof HTMLTextAreaElement
  )
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

/** @param {Element} element @returns {string | undefined} the screen the element belongs to */
const screenOf = element => /** @type {HTMLElement | null} */ (element.closest('[data-screen]'))?.dataset.screen

/**
 * Focuses, within `root`: the element the screen had focused last time, else its [data-autofocus]
 * element, else its first focusable element. A root without any keeps nothing focused.
 * @param {Element} root
 */
function focusInitial(root) {
  const screens = /** @type {HTMLElement[]} */ ([...root.querySelectorAll('[data-screen]')]).filter(isShown)
  const screen = screens[screens.length - 1]
  const key = screen && remembered.get(screen.dataset.screen)
  const candidates = [
    key && [...root.querySelectorAll(`[data-focus-key="${CSS.escape(key)}"]`)],
    [...root.querySelectorAll('[data-autofocus]')],
    focusableElements(root)
  ]
  for (const list of candidates) {
    const target = list && /** @type {HTMLElement | undefined} */ (list.find(isShown))
    if (target) return focusElement(target)
  }
}

function focusIsLost() {
  const active = document.activeElement
  return !active || active === document.body || !active.isConnected || !currentRoot().contains(active) || !isShown(active)
}

/**
 * Moves focus one step in `direction` (from nothing: to where the screen starts); stays put at an edge.
 * @param {Direction} direction
 */
function moveFocus(direction) {
  const root = currentRoot()
  if (focusIsLost()) return focusInitial(root)
  const next = nearestInDirection(/** @type {Element} */ (document.activeElement), focusableElements(root), direction)
  if (next) focusElement(next)
}

/**
 * Makes everything on the page but `root` inert (a modal dialog: not focusable, not clickable, hidden
 * from assistive technology), and returns what undoes it.
 * @param {HTMLElement} root
 */
function inertAround(root) {
  /** @type {Element[]} */
  const made = []
  for (let node = root; node.parentElement && node !== document.body; node = node.parentElement) {
    for (const sibling of node.parentElement.children) {
      if (sibling !== node && !sibling.hasAttribute('inert')) {
        sibling.setAttribute('inert', '')
        made.push(sibling)
      }
    }
  }
  return () => made.forEach(element => element.removeAttribute('inert'))
}

/**
 * Confines navigation to `root` (a dialog or a menu) and focuses inside it; a modal scope also makes
 * the rest of the page inert. The returned function closes the scope and gives focus back to the
 * element that had it before, if it is still shown.
 * @param {HTMLElement} root
 * @param {{ modal?: boolean }} [opts]
 * @returns {() => void}
 */
export function openFocusScope(root, { modal = false } = {}) {
  const entry = { root, opener: document.activeElement }
  const remove = push(scopes, entry)
  const restoreInert = modal ? inertAround(root) : () => {}
  focusInitial(root)
  return () => {
    restoreInert()
    remove()
    const opener = entry.opener
    if (opener instanceof HTMLElement && opener.isConnected && isShown(opener) && currentRoot().contains(opener)) focusElement(opener)
    else if (focusIsLost()) focusInitial(currentRoot())
  }
}

/** @param {KeyboardEvent} event */
function handleKeyDown(event) {
  if (event.defaultPrevented) return
  const action = remoteAction(event)
  if (!action) return
  const active = document.activeElement
  const typing = isTextEntry(active)
  if (typing && (action === 'left' || action === 'right' || (action === 'back' && event.key === 'Backspace'))) return
  for (let i = keyHandlers.length - 1; i >= 0; i--) {
    if (keyHandlers[i](action, event)) return event.preventDefault()
  }
  if (action === 'back') {
    const handler = backHandlers[backHandlers.length - 1]
    if (!handler) return
    event.preventDefault()
    handler(event)
  } else if (action === 'left' || action === 'right' || action === 'up' || action === 'down') {
    event.preventDefault()
    moveFocus(action)
  } else if (action === 'enter' && event.key !== 'Enter' && active instanceof HTMLElement && !typing) {
    // A remote that sends only keyCode 13 gets no native activation: click what is focused.
    event.preventDefault()
    active.click()
  }
}

/** @param {FocusEvent} event */
function handleFocusIn(event) {
  const target = /** @type {Element} */ (event.target)
  const root = currentRoot()
  if (!root.contains(target)) {
    // a pointer click outside an open dialog: focus stays in the dialog
    focusInitial(root)
    return
  }
  const screen = screenOf(target)
  const key = /** @type {HTMLElement} */ (target).dataset?.focusKey
  if (screen && key) remembered.set(screen, key)
}

/**
 * Starts handling the remote on the document, and keeps something focused as screens change (and when
 * a pointer, such as LG's Magic Remote, clicks on nothing).
 */
export function startFocusNavigation() {
  let checkPending = false
  const keepFocus = () => {
    if (checkPending) return
    checkPending = true
    requestAnimationFrame(() => {
      checkPending = false
      if (focusIsLost()) focusInitial(currentRoot())
    })
  }
  const observer = new MutationObserver(keepFocus)
  observer.observe(document.body, { childList: true, subtree: true, attributes: true, attributeFilter: ['disabled', 'hidden', 'inert'] })
  document.addEventListener('keydown', handleKeyDown)
  document.addEventListener('focusin', handleFocusIn)
  document.addEventListener('focusout', keepFocus)
  if (focusIsLost()) focusInitial(currentRoot())
}
