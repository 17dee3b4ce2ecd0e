/** Paces bytes to a rate that may change at any time; a rate of 0 means no limit. */
export interface TokenBucket {
  /** Resolves when `bytes` may go out; callers are served in the order they asked. */
  take(bytes: number, signal?: AbortSignal): Promise<void>
}

/**
 * A token bucket holding up to one second of the current rate. A take larger than what is in the
 * bucket runs it into debt and waits until the debt is paid, so a 1 MiB block under a 256 KiB/s cap
 * goes out after about three seconds, and the callers after it wait their turn behind it.
 */
export function createTokenBucket(rate: () => number, now: () => number = () => performance.now()): TokenBucket {
  // starts full, and is full again whenever there is no limit
  let tokens = Number.POSITIVE_INFINITY
  let at = now()
  return {
    async take(bytes, signal) {
      const perSecond = rate()
      const t = now()
      if (perSecond <= 0) {
        tokens = Number.POSITIVE_INFINITY
        at = t
        return
      }
      tokens = Math.min(perSecond, tokens + ((t - at) / 1000) * perSecond) - bytes
      at = t
      if (tokens >= 0) return
      const waitMs = (-tokens / perSecond) * 1000
      await new Promise<void>((resolve, reject) => {
        const timer = setTimeout(() => {
          signal?.removeEventListener('abort', onAbort)
          resolve()
        }, waitMs)
        const onAbort = (): void => {
          clearTimeout(timer)
          tokens += bytes // not sent: the callers behind it need not wait for it
          reject(signal?.reason)
        }
        signal?.addEventListener('abort', onAbort, { once: true })
      })
    }
  }
}
