import { section, type StateDb } from '../storage/state-db.ts'
import { MAX_REST_MS } from '../wire/monitor-protocol.ts'
import { SeedError } from '../lib/errors.ts'

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
    /**
     * A planned absence the owner announces (a move, a holiday): UTC ISO times, at most 7 days
     * (MAX_REST_MS). The box tells the monitor, which lists it resting, not gone, while it is silent
     * then, so the network repairs nothing of its share. null = none; absent from older documents.
     */
    downtime?: { start: string; end: string } | null
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
const isoTime = { type: 'string', pattern: '^\\d{4}-\\d{2}-\\d{2}T\\d{2}:\\d{2}:\\d{2}(\\.\\d+)?Z$' }

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
        },
        downtime: {
          anyOf: [
            { type: 'null' },
            { type: 'object', additionalProperties: false, required: ['start', 'end'], properties: { start: isoTime, end: isoTime } }
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

/** Refuses a planned downtime that ends before it starts or lasts longer than the monitor counts as rest. */
export function checkDowntime(downtime: DeviceSettings['replication']['downtime']): void {
  if (downtime === null || downtime === undefined) return
  const length = Date.parse(downtime.end) - Date.parse(downtime.start)
  if (length > 0 && length <= MAX_REST_MS.downtime) return
  throw new SeedError(
    'SEED_BAD_DOWNTIME',
    `the planned downtime ${downtime.start} to ${downtime.end} must end after it starts and last at most ${MAX_REST_MS.downtime / 86_400_000} days: ` +
      'shorten it, or set it again when it is nearer'
  )
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
