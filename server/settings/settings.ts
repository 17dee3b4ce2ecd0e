import { section, type StateDb } from '../storage/state-db.ts'

declare module '../storage/state-db.ts' {
  interface StateSchema {
    settings: { current: DeviceSettings }
  }
}

/** What the owner sets on the box (Settings screen). Replication's settings are used by the storage node. */
export interface DeviceSettings {
  /** Disk the box may use for other people's films (replicas); the owner's library is never counted against it. */
  storageQuotaBytes: number
  replication: {
    enabled: boolean
    /** Upload to peers, bytes per second; 0 means no cap. */
    uploadCapBytesPerSec: number
    /** Local times "HH:MM" between which the box serves no peers and fetches nothing for others; null = none. */
    quietHours: { start: string; end: string } | null
  }
  /** Shows `test` and `development` content, labelled. */
  developerMode: boolean
}

export const DEFAULT_SETTINGS: DeviceSettings = {
  storageQuotaBytes: 50 * 1024 ** 3,
  replication: { enabled: true, uploadCapBytesPerSec: 0, quietHours: null },
  developerMode: false
}

const clock = { type: 'string', pattern: '^([01][0-9]|2[0-3]):[0-5][0-9]$' }

/** JSON schema of a full settings document (PUT /api/settings takes the whole document). */
export const settingsSchema = {
  type: 'object',
  additionalProperties: false,
  required: ['storageQuotaBytes', 'replication', 'developerMode'],
  properties: {
    storageQuotaBytes: { type: 'integer', minimum: 0, maximum: 2 ** 53 - 1 },
    replication: {
      type: 'object',
      additionalProperties: false,
      required: ['enabled', 'uploadCapBytesPerSec', 'quietHours'],
      properties: {
        enabled: { type: 'boolean' },
        uploadCapBytesPerSec: { type: 'integer', minimum: 0, maximum: 2 ** 40 },
        quietHours: {
          anyOf: [
            { type: 'null' },
            { type: 'object', additionalProperties: false, required: ['start', 'end'], properties: { start: clock, end: clock } }
          ]
        }
      }
    },
    developerMode: { type: 'boolean' }
  }
} as const

export interface SettingsStore {
  get(): Promise<DeviceSettings>
  /** Saves a new full settings document and tells the listeners. */
  put(settings: DeviceSettings): Promise<void>
  onChange(listener: (settings: DeviceSettings) => void): () => void
}

export function createSettingsStore(db: StateDb): SettingsStore {
  const store = section(db, 'settings')
  const listeners = new Set<(settings: DeviceSettings) => void>()
  return {
    get: async () => {
      const saved = await store.get('current')
      return saved === undefined
        ? structuredClone(DEFAULT_SETTINGS)
        : { ...DEFAULT_SETTINGS, ...saved, replication: { ...DEFAULT_SETTINGS.replication, ...saved.replication } }
    },
    put: async settings => {
      await store.put('current', settings)
      for (const listener of listeners) listener(settings)
    },
    onChange: listener => {
      listeners.add(listener)
      return () => listeners.delete(listener)
    }
  }
}

/** True when `now` (local time) falls in the quiet hours; a window may wrap midnight (23:00–07:00). */
export function inQuietHours(quietHours: DeviceSettings['replication']['quietHours'], now = new Date()): boolean {
  if (quietHours === null) return false
  const minutes = (clockTime: string): number => Number(clockTime.slice(0, 2)) * 60 + Number(clockTime.slice(3))
  const current = now.getHours() * 60 + now.getMinutes()
  const start = minutes(quietHours.start)
  const end = minutes(quietHours.end)
  return start <= end ? current >= start && current < end : current >= start || current < end
}
