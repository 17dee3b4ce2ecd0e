// One way to keep an answer from the box fresh: load, wait, load again; failures retry by themselves.
import { useCallback, useEffect, useRef, useState } from 'preact/hooks'

const RETRY_MS = 5000

/**
 * Loads `load` while `enabled`, again after `nextDelay(answer)` ms (undefined: stop), and after a failure
 * every RETRY_MS. A failed reload keeps the last answer in `value` beside the `error`. `refresh` loads
 * again now, keeping what is shown until the answer comes; `reload` does too, but lets a load under way
 * finish first (for news that may come in bursts); `retry` starts over from nothing (value and error
 * cleared). `load` and `nextDelay` are read when polling starts: pass module-level functions.
 * @template T
 * @param {(signal: AbortSignal) => Promise<T>} load
 * @param {(value: T) => number | undefined} nextDelay
 * @param {boolean} enabled
 */
export function usePolling(load, nextDelay, enabled) {
  const [value, setValue] = useState(/** @type {T | null} */ (null))
  const [error, setError] = useState(/** @type {Error | null} */ (null))
  const [round, setRound] = useState(0)
  const wake = useRef(() => {})

  useEffect(() => {
    if (!enabled) return
    const controller = new AbortController()
    /** @type {ReturnType<typeof setTimeout> | undefined} */
    let timer
    let loading = false
    let again = false
    const poll = async () => {
      clearTimeout(timer)
      loading = true
      /** @type {number | undefined} */
      let delay
      try {
        const latest = await load(controller.signal)
        if (controller.signal.aborted) return // stopped while the answer was on its way
        setValue(latest)
        setError(null)
        delay = nextDelay(latest)
      } catch (failure) {
        if (controller.signal.aborted) return
        // shown on the screen as it is, and in the console: a script error (a missing API on an old TV
        // engine) would otherwise only show as a screen that retries for ever
        console.error('Seed One: loading failed, trying again', failure)
        setError(/** @type {Error} */ (failure))
        delay = RETRY_MS
      } finally {
        loading = false
      }
      if (again) {
        again = false
        poll()
      } else if (delay !== undefined) timer = setTimeout(poll, delay)
    }
    wake.current = () => {
      if (loading) again = true
      else poll()
    }
    poll()
    return () => {
      controller.abort()
      clearTimeout(timer)
      wake.current = () => {}
    }
  }, [enabled, round])

  const refresh = useCallback(() => setRound(count => count + 1), [])
  const reload = useCallback(() => wake.current(), [])
  const retry = useCallback(() => {
    setValue(null)
    setError(null)
    refresh()
  }, [])
  return { value, error, retry, refresh, reload }
}
