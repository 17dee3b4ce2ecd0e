// Runs one job over and over: every intervalMs, with exponential backoff after failures. Runs never
// overlap: a runOnce() called while the timer's run is in flight waits for it.

export type PollingLoopOptions<T> = {
  intervalMs: number
  /** longest wait after repeated failures (never shorter than intervalMs) */
  maxBackoffMs: number
  run(): Promise<T>
  onError?(err: unknown): void
}

export type PollingLoop<T> = {
  /** runs the job now (after any run in flight) */
  runOnce(): Promise<T>
  /** first run at once, then every intervalMs */
  start(): void
  /** no new runs; resolves once the run in flight has ended */
  close(): Promise<void>
}

export function createPollingLoop<T>(opts: PollingLoopOptions<T>): PollingLoop<T> {
  const { intervalMs } = opts
  let queue: Promise<unknown> = Promise.resolve()
  let timer: NodeJS.Timeout | undefined
  let running = false
  let failures = 0

  function runOnce(): Promise<T> {
    const run = queue.then(opts.run)
    queue = run.catch(() => undefined)
    return run
  }

  async function tick(): Promise<void> {
    try {
      await runOnce()
      failures = 0
    } catch (err) {
      failures++
      try {
        opts.onError?.(err)
      } catch {
        // a failing error handler must not stop the loop
      }
    }
    if (running)
      timer = setTimeout(tick, failures === 0 ? intervalMs : Math.min(intervalMs * 2 ** failures, Math.max(intervalMs, opts.maxBackoffMs)))
  }

  return {
    runOnce,
    start() {
      if (running) return
      running = true
      timer = setTimeout(tick, 0)
    },
    async close() {
      running = false
      clearTimeout(timer)
      await queue
    }
  }
}
