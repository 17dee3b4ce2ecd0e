// Tells the screens watching the library that it changed, so a purchase, a sale or a film becoming
// ready shows on the TV at once instead of at its next poll (GET /api/library/events).

export interface LibraryChanges {
  /** Something the library view shows changed; listeners hear of it once per burst of changes. */
  changed(): void
  /** Calls `listener` after each burst; returns the way to stop. */
  subscribe(listener: () => void): () => void
}

/** A sync that applies several holdings, or a state and its error saved one after the other, is one change. */
const COALESCE_MS = 200

export function createLibraryChanges(): LibraryChanges {
  const listeners = new Set<() => void>()
  let pending: NodeJS.Timeout | undefined
  return {
    changed() {
      pending ??= setTimeout(() => {
        pending = undefined
        for (const listener of listeners) listener()
      }, COALESCE_MS).unref()
    },
    subscribe(listener) {
      listeners.add(listener)
      return () => listeners.delete(listener)
    }
  }
}
