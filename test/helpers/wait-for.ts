export interface WaitForOptions {
  /** Default 60 s. */
  timeoutMs?: number
  /** Pause between checks, default 200 ms. */
  intervalMs?: number
  /** What the timeout error reports as last seen (e.g. the state polled last). */
  lastSeen?: () => unknown
}

/**
 * Polls `check` until it returns a value other than undefined or false, or fails after the timeout
 * naming `what`, the last error `check` threw and what `lastSeen` reports.
 */
export async function waitFor<T>(what: string, check: () => Promise<T | false | undefined>, opts: WaitForOptions = {}): Promise<T> {
  const { timeoutMs = 60_000, intervalMs = 200 } = opts
  const started = Date.now()
  let lastError: unknown
  while (Date.now() - started < timeoutMs) {
    try {
      const value = await check()
      if (value !== undefined && value !== false) return value
    } catch (err) {
      lastError = err
    }
    await new Promise(resolve => setTimeout(resolve, intervalMs))
  }
  const seen = opts.lastSeen === undefined ? '' : `; last seen ${JSON.stringify(opts.lastSeen())}`
  const error = lastError === undefined ? '' : `; last error: ${String(lastError)}`
  throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}${seen}${error}`)
}
