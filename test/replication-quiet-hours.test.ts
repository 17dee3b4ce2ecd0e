// Quiet hours begin at their window's edge by node-cron, with no settings change to trigger them:
// a window that opens at the next whole minute is waited for (up to a minute).
import t from 'tap'
import { createQuietHours } from '../server/replication/quiet-hours.ts'
import { createSettingsStore, DEFAULT_SETTINGS } from '../server/settings/settings.ts'
import { openStateDb } from '../server/storage/state-db.ts'
import { testDir } from './helpers/in-process.ts'

const clock = (at: Date): string => `${String(at.getHours()).padStart(2, '0')}:${String(at.getMinutes()).padStart(2, '0')}`

t.test('the state switches at the start of the window', async t => {
  const db = await openStateDb(testDir(t, 'state'))
  t.teardown(() => db.close())
  const settings = createSettingsStore(db)
  // the next whole minute, or the one after when it is too close to set up in time
  const start = new Date(Math.ceil((Date.now() + 5000) / 60_000) * 60_000)
  const end = new Date(start.getTime() + 60_000)
  await settings.put({
    ...DEFAULT_SETTINGS,
    replication: { ...DEFAULT_SETTINGS.replication, quietHours: { start: clock(start), end: clock(end) } }
  })
  const quietHours = await createQuietHours(settings)
  t.teardown(() => quietHours.close())
  t.notOk(quietHours.quiet(), `not quiet before ${clock(start)}`)
  // the cron tasks do not hold the process open (a daemon's server does): this timer does, and bounds the wait
  let guard: NodeJS.Timeout | undefined
  const switched = await new Promise<{ quiet: boolean; at: number }>((resolve, reject) => {
    guard = setTimeout(() => reject(new Error(`still not quiet at ${clock(end)}`)), end.getTime() - Date.now())
    quietHours.onChange(quiet => resolve({ quiet, at: Date.now() }))
  }).finally(() => clearTimeout(guard))
  t.ok(switched.quiet, 'quiet')
  t.ok(switched.at >= start.getTime(), `at ${new Date(switched.at).toISOString()}, the edge being ${start.toISOString()}`)
  t.ok(quietHours.quiet(), 'and stays so')
})
