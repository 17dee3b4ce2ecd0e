// One way to keep an answer from the box fresh: load, wait, load again; failures retry by themselves.
import { useCallback, useEffect, useState } from 'preact/hooks'

const RETRY_MS = 5000

/**
 * Loads `load` while `enabled`, again after `nextDelay(answer)` ms (undefined: stop), and after a failure
 * every RETRY_MS. A failed reload keeps the last answer in `value` beside the `error`. `refresh` loads
 * again now, keeping what is shown until the answer comes; `retry` starts over from nothing (value and
 * error cleared). `load` and `nextDelay` are read when polling starts: pass module-level functions.
 * @template T
 * @param {(signal: AbortSignal) => Promise<T>} load
 * @param {(value: T) => number | undefined} nextDelay
 * @param {boolean} enabled
 */
export function usePolling(load, nextDelay, enabled) {
  const [value, setValue] = useState(/** @type {T | null} */ (null))
  const [error, setError] = useState(/** @type {Error | null} */ (null))
  const [round, setRound] = useState(0)

  useEffect(() => {
    if (!enabled) return
    const controller = new AbortController()
    /** @type {ReturnType<typeof setTimeout> | undefined} */
    let timer
    const poll = async () => {
      try {
        const latest = await load(controller.signal)
        if (controller.signal.aborted) return // stopped while the answer was on its way
        setValue(latest)
        setError(null)
        const delay = nextDelay(latest)
        if (delay !== undefined) timer = setTimeout(poll, delay)
      } catch (failure) {
        if (controller.signal.aborted) return
        setError(/** @type {Error} */ (failure))
        timer = setTimeout(poll, RETRY_MS)
      }
    }
    poll()
    return () => {
      controller.abort()
      clearTimeout(timer)
    }
  }, [enabled, round])

  const refresh = useCallback(() => setRound(count => count + 1), [])
  const retry = useCallback(() => {
    setValue(null)
    setError(null)
    refresh()
  }, [])
  return { value, error, retry, refresh }
}
