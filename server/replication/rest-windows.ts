// The windows a box announces in its health reports (issue 15), so that the monitor lists it resting,
// not gone, while it is silent then: its quiet hours' current or next occurrence, and the owner's
// planned downtime until it ends.
import { MAX_REST_MS, type RestWindow } from '../wire/monitor-protocol.ts'
import type { DeviceSettings } from '../settings/settings.ts'

const MINUTE_MS = 60_000
const DAY_MINUTES = 24 * 60

/**
 * The windows to announce at `now`. Quiet hours are local times: the occurrence under way or next,
 * of at most 12 h (MAX_REST_MS; the monitor counts no longer: a box quiet for longer is gone for the
 * rest of it if silent, though it still keeps its quiet hours).
 */
export function restWindows(replication: DeviceSettings['replication'], now = new Date()): RestWindow[] {
  const windows: RestWindow[] = []
  const quiet = replication.quietHours === null ? undefined : quietOccurrence(replication.quietHours, now)
  if (quiet !== undefined) windows.push(quiet)
  const { downtime } = replication
  if (downtime !== null && downtime !== undefined && Date.parse(downtime.end) > now.getTime())
    windows.push({ reason: 'downtime', start: downtime.start, end: downtime.end })
  return windows
}

/** The occurrence of daily quiet hours that is under way at `now` or comes next, clipped to its bound. */
function quietOccurrence(quietHours: { start: string; end: string }, now: Date): RestWindow | undefined {
  const minutes = (clock: string): number => Number(clock.slice(0, 2)) * 60 + Number(clock.slice(3))
  const length = (minutes(quietHours.end) - minutes(quietHours.start) + DAY_MINUTES) % DAY_MINUTES
  // start = end: no quiet hours (inQuietHours is never true then)
  if (length === 0) return undefined
  for (const day of [-1, 0, 1]) {
    const start = new Date(now.getFullYear(), now.getMonth(), now.getDate() + day, 0, minutes(quietHours.start))
    const end = new Date(start.getTime() + Math.min(length * MINUTE_MS, MAX_REST_MS['quiet-hours']))
    if (end > now) return { reason: 'quiet-hours', start: start.toISOString(), end: end.toISOString() }
  }
  return undefined
}
