import cron, { type ScheduledTask } from 'node-cron'
import { inQuietHours, type DeviceSettings, type SettingsStore } from '../settings/settings.ts'

type Window = DeviceSettings['replication']['quietHours']

/** Whether the owner's quiet hours are on now, kept current by node-cron at the window's edges. */
export interface QuietHours {
  quiet(): boolean
  /** Called with the new state each time it changes. */
  onChange(listener: (quiet: boolean) => void): () => void
  close(): Promise<void>
}

/** node-cron's expression for a daily "HH:MM" (local time, like inQuietHours). */
const atClock = (clock: string): string => `${Number(clock.slice(3))} ${Number(clock.slice(0, 2))} * * *`

export async function createQuietHours(settings: SettingsStore): Promise<QuietHours> {
  const listeners = new Set<(quiet: boolean) => void>()
  let window: Window = (await settings.get()).replication.quietHours
  let quiet = inQuietHours(window)
  let edges: ScheduledTask[] = []

  const update = (): void => {
    const now = inQuietHours(window)
    if (now === quiet) return
    quiet = now
    for (const listener of listeners) listener(quiet)
  }
  const schedule = async (): Promise<void> => {
    await Promise.all(edges.map(task => task.destroy()))
    // a cron task fires at the first second of its minute, when inQuietHours already gives the new state
    edges = window === null ? [] : [window.start, window.end].map(clock => cron.schedule(atClock(clock), update, { unref: true }))
  }
  await schedule()
  const unsubscribe = settings.onChange(next => {
    window = next.replication.quietHours
    update()
    void schedule()
  })

  return {
    quiet: () => quiet,
    onChange(listener) {
      listeners.add(listener)
      return () => listeners.delete(listener)
    },
    async close() {
      unsubscribe()
      await Promise.all(edges.map(task => task.destroy()))
      edges = []
    }
  }
}
