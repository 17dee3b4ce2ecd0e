// The early health report a pin change brings forward: a burst of changes makes one report, and early
// reports keep their distance from the last report of any kind, so a busy node cannot flood the monitor.
import t from 'tap'
import { createEarlyReport } from '../server/health/early-report.ts'
import { waitFor } from './helpers/wait-for.ts'

const DELAY_MS = 20
const MIN_GAP_MS = 300

function counted(): { early: ReturnType<typeof createEarlyReport>; times: number[] } {
  const times: number[] = []
  const early = createEarlyReport({
    delayMs: DELAY_MS,
    minGapMs: MIN_GAP_MS,
    report: async () => {
      times.push(performance.now())
      early.reported()
    }
  })
  return { early, times }
}

t.test('a burst of changes is one report; the next keeps the gap', async t => {
  const { early, times } = counted()
  t.teardown(() => early.close())
  for (let i = 0; i < 10; i++) early.request()
  await waitFor('the early report', async () => times.length > 0)
  early.request()
  early.request()
  await waitFor('the second early report', async () => times.length > 1)
  // Node's timers run on the event loop's cached clock, a little behind performance.now(): half the gap
  // is a bound no timer misses, and one an early report without the gap (DELAY_MS) would
  t.ok(times[1] - times[0] >= MIN_GAP_MS / 2, `about ${MIN_GAP_MS} ms after the first (${Math.round(times[1] - times[0])} ms)`)
  early.request()
  early.close()
  await new Promise(resolve => setTimeout(resolve, MIN_GAP_MS + DELAY_MS))
  t.equal(times.length, 2, 'ten then two requests made two reports; none after close')
})

t.test('a scheduled report just made pushes the early one back', async t => {
  const { early, times } = counted()
  t.teardown(() => early.close())
  early.reported()
  const scheduledAt = performance.now()
  early.request()
  await waitFor('the early report', async () => times.length > 0)
  t.ok(times[0] - scheduledAt >= MIN_GAP_MS / 2, 'it keeps about the gap after the scheduled one, not just DELAY_MS')
})
