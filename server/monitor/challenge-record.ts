import type { ChallengeRecord } from './node-store.ts'

/**
 * The record after one challenge for `cid`: a pass clears the CID's streak and its place in the
 * failed list; the `failuresBeforeFailed`-th failure in a row puts it in the list.
 */
export function recordChallenge(
  record: ChallengeRecord,
  outcome: { cid: string; passed: boolean; reason?: string; at: Date },
  failuresBeforeFailed: number
): ChallengeRecord {
  const { cid, passed } = outcome
  const streaks = { ...record.streaks }
  let failedCids = record.failedCids
  if (passed) {
    delete streaks[cid]
    failedCids = failedCids.filter(failed => failed !== cid)
  } else {
    streaks[cid] = (streaks[cid] ?? 0) + 1
    if (streaks[cid] >= failuresBeforeFailed && !failedCids.includes(cid)) failedCids = [...failedCids, cid]
  }
  return {
    passed: record.passed + (passed ? 1 : 0),
    failed: record.failed + (passed ? 0 : 1),
    streaks,
    failedCids,
    last: { at: outcome.at.toISOString(), cid, passed, ...(outcome.reason !== undefined ? { reason: outcome.reason } : {}) }
  }
}

/** Share of challenges passed, 0..1; 1 until challenged. */
export function challengeScore(record: ChallengeRecord): number {
  const total = record.passed + record.failed
  return total === 0 ? 1 : record.passed / total
}
