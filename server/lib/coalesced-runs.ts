export interface CoalescedRuns {
  /** Starts a run, or asks the one in progress for one more: resolves when no run is left. */
  request(): Promise<void>
  /** Resolves when the run in progress, if any, has ended (a shutdown's wait: it starts none). */
  settled(): Promise<void>
}

/**
 * One run at a time of background work that catches up with whatever is there (a queue to drain, a
 * state to reconcile): a request during a run makes it run once more afterwards, rather than once per
 * request. `run` answers whether a further run may follow (false: it failed or is stopping, and
 * another would do no better now).
 */
export function coalescedRuns(run: () => Promise<boolean>): CoalescedRuns {
  let running: Promise<void> | undefined
  let again = false
  return {
    request() {
      if (running !== undefined) {
        again = true
        return running
      }
      running = (async () => {
        let mayRunAgain: boolean
        do {
          again = false
          mayRunAgain = await run()
        } while (again && mayRunAgain)
      })().finally(() => {
        running = undefined
      })
      return running
    },
    settled: async () => await running
  }
}
