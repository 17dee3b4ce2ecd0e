// A warning a retry loop gives at every failure ("catalogue sync failed; retrying" every 10 s, 79 times
// in 10 minutes) said once, then as one summary per period while the failures go on.

/** The part of a pino logger a warning needs. */
export interface WarningLog {
  warn(fields: object, message: string): void
}

export interface RepeatedWarning {
  /** One more failure: logged when it is the first after a quiet period, else counted into the next summary. */
  warn(fields: object): void
}

/** Every this long at most, a summary of the failures since the last line (default). */
export const WARNING_SUMMARY_MS = 5 * 60_000

/**
 * `message` logged at its first failure; while failures go on, at most one line per `summaryMs`, naming
 * how many were not logged. A failure after a quiet `summaryMs` is a first one again.
 */
export function repeatedWarning(log: WarningLog, message: string, summaryMs = WARNING_SUMMARY_MS, now = Date.now): RepeatedWarning {
  let loggedAt = -Infinity
  let lastAt = -Infinity
  let unlogged = 0
  return {
    warn(fields) {
      const at = now()
      if (at - lastAt >= summaryMs) {
        unlogged = 0
        loggedAt = at
        log.warn(fields, message)
      } else if (at - loggedAt >= summaryMs) {
        log.warn({ ...fields, repeated: unlogged + 1, sinceMs: at - loggedAt }, `${message} (${unlogged + 1} times since the last line)`)
        unlogged = 0
        loggedAt = at
      } else unlogged++
      lastAt = at
    }
  }
}
