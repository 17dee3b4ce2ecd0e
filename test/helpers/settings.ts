// A box's settings as the tests change them: straight in its store, bypassing the owner's HTTP route.
import type { DeviceSettings, SettingsStore } from '../../server/settings/settings.ts'

/** Reads the settings, lets `change` edit them, and stores them. */
export async function changeSettings(box: { settings: SettingsStore }, change: (settings: DeviceSettings) => void): Promise<void> {
  const settings = await box.settings.get()
  change(settings)
  await box.settings.put(settings)
}

/** A quiet-hours window around now (local time, like the settings), wrapping midnight when it must. */
export function quietAroundNow(): { start: string; end: string } {
  const clock = (offsetMin: number): string => {
    const at = new Date(Date.now() + offsetMin * 60_000)
    return `${String(at.getHours()).padStart(2, '0')}:${String(at.getMinutes()).padStart(2, '0')}`
  }
  return { start: clock(-60), end: clock(60) }
}
