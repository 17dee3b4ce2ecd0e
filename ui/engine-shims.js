// What the oldest TV engines of the floor (Chromium 68: LG webOS 5, Samsung Tizen 5.5) lack and the
// bundles call. The build injects this file before each page's own code.

// Chromium 71+. Preact schedules its renders with it.
if (typeof queueMicrotask !== 'function') {
  /** @param {() => void} callback */
  window.queueMicrotask = callback => {
    Promise.resolve()
      .then(callback)
      .catch(error =>
        setTimeout(() => {
          throw error // reported as an uncaught error, as the real queueMicrotask does
        })
      )
  }
}
