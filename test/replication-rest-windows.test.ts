// The windows a box announces to the monitor (issue 15): its quiet hours' occurrence under way or
// next, at most 12 h of it, and a planned downtime until it ends. Quiet hours are local times.
import t from 'tap'
import { restWindows } from '../server/replication/rest-windows.ts'
import { DEFAULT_SETTINGS } from '../server/settings/settings.ts'

const local = (day: number, hour: number, minute = 0): Date => new Date(2030, 0, day, hour, minute)
const quiet = (start: string, end: string) => ({ ...DEFAULT_SETTINGS.replication, quietHours: { start, end } })
const window = (start: Date, end: Date) => ({ reason: 'quiet-hours', start: start.toISOString(), end: end.toISOString() })

t.test('quiet hours: the occurrence under way, else the next; wrapping midnight; clipped to 12 h', async t => {
  t.same(restWindows(DEFAULT_SETTINGS.replication, local(10, 12)), [], 'none set: none announced')
  t.same(restWindows(quiet('23:00', '07:00'), local(10, 2)), [window(local(9, 23), local(10, 7))], 'under way since last night')
  t.same(restWindows(quiet('23:00', '07:00'), local(10, 12)), [window(local(10, 23), local(11, 7))], 'next tonight')
  t.same(restWindows(quiet('01:00', '05:00'), local(10, 5, 30)), [window(local(11, 1), local(11, 5))], 'today’s is over: tomorrow’s')
  t.same(restWindows(quiet('20:00', '12:00'), local(10, 21)), [window(local(10, 20), local(11, 8))], '16 h quiet: 12 h of rest')
  t.same(restWindows(quiet('20:00', '12:00'), local(11, 9)), [window(local(11, 20), local(12, 8))], 'past the 12 h: the next')
  t.same(restWindows(quiet('07:00', '07:00'), local(10, 12)), [], 'start = end is no quiet hours')
})

t.test('a planned downtime is announced until it ends', async t => {
  const downtime = { start: '2030-01-12T08:00:00.000Z', end: '2030-01-14T08:00:00.000Z' }
  const settings = { ...DEFAULT_SETTINGS.replication, downtime }
  t.same(restWindows(settings, new Date('2030-01-10T00:00:00Z')), [{ reason: 'downtime', ...downtime }], 'ahead of it')
  t.same(restWindows(settings, new Date('2030-01-13T00:00:00Z')), [{ reason: 'downtime', ...downtime }], 'during it')
  t.same(restWindows(settings, new Date('2030-01-14T08:00:00Z')), [], 'ended')
})
