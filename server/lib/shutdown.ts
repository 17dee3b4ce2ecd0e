/**
 * What a start-up opened, closed in reverse order. A failing step does not stop the ones after it,
 * and running it again waits for the same shutdown.
 */
export interface Shutdown {
  add(step: () => Promise<void> | void): void
  run(): Promise<void>
}

export function createShutdown(): Shutdown {
  const steps: Array<() => Promise<void> | void> = []
  let running: Promise<void> | undefined
  return {
    add: step => {
      steps.push(step)
    },
    run: () =>
      (running ??= (async () => {
        for (const step of steps.reverse())
          await Promise.resolve()
            .then(step)
            .catch(() => {})
      })())
  }
}
