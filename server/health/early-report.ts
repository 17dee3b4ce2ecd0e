// A report made soon after what it reports changed (a replica pinned or released), rather than at the
// next interval (300 s by default: the fleet dashboard showed copies about 150 s late on average).
// Debounced and spaced, so a node pinning a film's dozen parts, or a flapping one, sends a few reports
// rather than a flood.

export interface EarlyReportOptions {
  /** Waits this long after a change, so a burst of changes goes in one report. */
  delayMs: number
  /** Fewest milliseconds between two reports of any kind: an early report waits for it. */
  minGapMs: number
  /** Makes and sends the report. */
  report(): Promise<unknown>
}

export interface EarlyReport {
  /** A change to report: a report follows within delayMs, or minGapMs after the last one. */
  request(): void
  /** A report was made (a scheduled one too): the next early one keeps its distance from it. */
  reported(): void
  /** No early report from now on. */
  close(): void
}

export function createEarlyReport(opts: EarlyReportOptions): EarlyReport {
  let lastAt = -Infinity
  let timer: NodeJS.Timeout | undefined
  let closed = false
  return {
    request() {
      if (closed || timer !== undefined) return
      const wait = Math.max(opts.delayMs, lastAt + opts.minGapMs - performance.now())
      timer = setTimeout(() => {
        timer = undefined
        void opts.report()
      }, wait)
    },
    reported() {
      lastAt = performance.now()
    },
    close() {
      closed = true
      clearTimeout(timer)
    }
  }
}
