// A small DevTools-protocol driver for one browser tab, over Node's global WebSocket: what the old TV
// engines understand (today's playwright is too new for them). Expressions run in the page as strings,
// so they are written in the syntax the oldest engine parses (no `?.`, no `??`).
import { writeFile } from 'node:fs/promises'
import { artifactPath } from './chromium.ts'
import { waitFor } from './wait-for.ts'

/** The remote's keys as a TV's browser delivers them; Back is webOS's (keyCode 461 alone, key "Unidentified"). */
const REMOTE_KEYS = {
  ArrowUp: { key: 'ArrowUp', code: 'ArrowUp', keyCode: 38 },
  ArrowDown: { key: 'ArrowDown', code: 'ArrowDown', keyCode: 40 },
  ArrowLeft: { key: 'ArrowLeft', code: 'ArrowLeft', keyCode: 37 },
  ArrowRight: { key: 'ArrowRight', code: 'ArrowRight', keyCode: 39 },
  Enter: { key: 'Enter', code: 'Enter', keyCode: 13, text: '\r' },
  Back: { key: 'Unidentified', code: '', keyCode: 461 }
} as const

export type RemoteKey = keyof typeof REMOTE_KEYS

type Listener = (params: any) => void

export class DevToolsTab {
  /** The page's script errors (uncaught exceptions, console.error, the engine's own error log), as they happen. */
  readonly errors: string[] = []
  #socket: WebSocket
  #nextId = 1
  #pending = new Map<number, { method: string; resolve: (result: any) => void; reject: (error: Error) => void }>()
  #listeners = new Map<string, Listener[]>()

  private constructor(socket: WebSocket) {
    this.#socket = socket
    socket.addEventListener('message', event => this.#receive(JSON.parse(String(event.data))))
    socket.addEventListener('close', () => {
      for (const { reject } of this.#pending.values()) reject(new Error('the DevTools connection closed'))
      this.#pending.clear()
    })
  }

  /** Connects to the browser's first tab (the about:blank it started with) and starts collecting its script errors. */
  static async open(devtoolsUrl: string): Promise<DevToolsTab> {
    // the DevTools server answers before the first tab exists: on a loaded machine the list was empty
    let targets: { type: string; webSocketDebuggerUrl: string }[] = []
    const page = await waitFor(
      "the browser's first tab",
      async () => {
        targets = (await (await fetch(`${devtoolsUrl}/json/list`)).json()) as typeof targets
        return targets.find(target => target.type === 'page')
      },
      { timeoutMs: 30_000, lastSeen: () => targets }
    )
    const socket = new WebSocket(page.webSocketDebuggerUrl)
    await new Promise((resolve, reject) => {
      socket.addEventListener('open', resolve, { once: true })
      socket.addEventListener('error', () => reject(new Error(`cannot connect to ${page.webSocketDebuggerUrl}`)), { once: true })
    })
    const tab = new DevToolsTab(socket)
    await tab.#collectErrors()
    return tab
  }

  #receive(message: { id?: number; result?: unknown; error?: { message: string }; method?: string; params?: unknown }): void {
    if (message.id !== undefined) {
      const call = this.#pending.get(message.id)
      this.#pending.delete(message.id)
      if (message.error) call?.reject(new Error(`${call.method}: ${message.error.message}`))
      else call?.resolve(message.result)
    } else if (message.method !== undefined) {
      for (const listener of this.#listeners.get(message.method) ?? []) listener(message.params)
    }
  }

  /** Sends one protocol command and resolves with its result. */
  async send(method: string, params: object = {}): Promise<any> {
    const id = this.#nextId++
    const result = new Promise((resolve, reject) => this.#pending.set(id, { method, resolve, reject }))
    this.#socket.send(JSON.stringify({ id, method, params }))
    return await result
  }

  /** Calls `listener` with the params of each `method` event. */
  on(method: string, listener: Listener): void {
    this.#listeners.set(method, [...(this.#listeners.get(method) ?? []), listener])
  }

  async #collectErrors(): Promise<void> {
    this.on('Runtime.exceptionThrown', ({ exceptionDetails: details }) =>
      this.errors.push(`${details.exception?.description ?? details.text} (${details.url ?? 'inline'}:${details.lineNumber})`)
    )
    this.on('Runtime.consoleAPICalled', ({ type, args }) => {
      if (type === 'error') this.errors.push(`console.error: ${args.map((arg: any) => arg.value ?? arg.description).join(' ')}`)
    })
    // what the engine reports itself, such as a module it refused to load; failed requests are left out (a 401 is an answer)
    this.on('Log.entryAdded', ({ entry }) => {
      if (entry.level === 'error' && entry.source !== 'network') this.errors.push(`${entry.text} (${entry.url ?? ''})`)
    })
    await this.send('Runtime.enable')
    await this.send('Log.enable')
    await this.send('Page.enable')
  }

  /** Runs `source` in every document the tab loads from now on, before the page's own scripts. */
  async addInitScript(source: string): Promise<void> {
    await this.send('Page.addScriptToEvaluateOnNewDocument', { source })
  }

  /** Sizes the page like a TV screen (1920x1080 unless told otherwise). */
  async setScreen(width = 1920, height = 1080): Promise<void> {
    await this.send('Emulation.setDeviceMetricsOverride', { width, height, deviceScaleFactor: 1, mobile: false })
  }

  async navigate(url: string): Promise<void> {
    const { errorText } = await this.send('Page.navigate', { url })
    if (errorText) throw new Error(`navigating to ${url}: ${errorText}`)
  }

  /** The value of `expression` in the page (awaited when it is a promise); a thrown error is rethrown here. */
  async evaluate<T = unknown>(expression: string): Promise<T> {
    const { result, exceptionDetails } = await this.send('Runtime.evaluate', { expression, returnByValue: true, awaitPromise: true })
    if (exceptionDetails) throw new Error(`${expression}: ${exceptionDetails.exception?.description ?? exceptionDetails.text}`)
    return result.value as T
  }

  /**
   * Waits until `expression` is truthy in the page and returns its value; the timeout error names what
   * was awaited and the page's script errors so far.
   */
  async waitFor<T = unknown>(what: string, expression: string, timeoutMs = 30_000): Promise<T> {
    return await waitFor(what, async () => (await this.evaluate<T>(expression)) || undefined, {
      timeoutMs,
      lastSeen: () => ({ scriptErrors: this.errors })
    })
  }

  /** Waits until the focused element matches `selector`; the timeout error says what had focus instead. */
  async waitForFocus(selector: string, timeoutMs = 30_000): Promise<void> {
    let focused = ''
    const check = `(function (active) {
      return { matches: !!active && active.matches(${JSON.stringify(selector)}), focused: active ? active.outerHTML.slice(0, 160) : 'nothing' }
    })(document.activeElement)`
    await waitFor(
      `focus on ${selector}`,
      async () => {
        const seen = await this.evaluate<{ matches: boolean; focused: string }>(check)
        focused = seen.focused
        return seen.matches
      },
      { timeoutMs, lastSeen: () => ({ focused, scriptErrors: this.errors }) }
    )
  }

  /** The focused element's focus key (data-focus-key), or null. */
  async focusKey(): Promise<string | null> {
    return await this.evaluate<string | null>('document.activeElement ? document.activeElement.getAttribute("data-focus-key") : null')
  }

  /** Presses and releases one of the remote's keys. */
  async press(name: RemoteKey): Promise<void> {
    const { key, code, keyCode, ...rest } = REMOTE_KEYS[name]
    const text = 'text' in rest ? rest.text : undefined
    const event = { key, code, windowsVirtualKeyCode: keyCode, nativeVirtualKeyCode: keyCode, text, unmodifiedText: text }
    // a key with text goes through keypress, which is what activates a focused button on Enter
    await this.send('Input.dispatchKeyEvent', { ...event, type: text === undefined ? 'rawKeyDown' : 'keyDown' })
    await this.send('Input.dispatchKeyEvent', { ...event, type: 'keyUp' })
  }

  /** Presses `key` until the focused element has `focusKey` (at most `limit` presses). */
  async moveFocusTo(key: RemoteKey, focusKey: string, limit = 8): Promise<void> {
    for (let step = 0; step < limit && (await this.focusKey()) !== focusKey; step++) await this.press(key)
    const reached = await this.focusKey()
    if (reached !== focusKey) throw new Error(`${key} did not reach ${focusKey}; focus is on ${reached}`)
  }

  /** Waits for the screen's finite animations to end (Chromium 68 cannot list them: it waits longer than the UI's longest, 240 ms). */
  async animationsDone(): Promise<void> {
    await this.evaluate(`document.getAnimations
      ? Promise.all(document.getAnimations()
          .filter(function (a) { return a.effect.getComputedTiming().endTime !== Infinity })
          .map(function (a) { return a.finished.catch(function () {}) }))
      : new Promise(function (done) { setTimeout(done, 300) })`)
  }

  /** Saves a screenshot of the screen, once its animations ended, as test-artifacts/<name>.png and returns its path. */
  async screenshot(name: string): Promise<string> {
    const file = await artifactPath(name, 'png')
    await this.animationsDone()
    const { data } = await this.send('Page.captureScreenshot', { format: 'png' })
    await writeFile(file, Buffer.from(data, 'base64'))
    return file
  }

  close(): void {
    this.#socket.close()
  }
}
