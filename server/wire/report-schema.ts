import { Ajv } from 'ajv'
import { MAX_REST_MS, MAX_REST_WINDOWS, type HealthReport, type SignedReport } from './monitor-protocol.ts'
import { peerOrigin } from '../lib/peer-url.ts'
import { isLanAddress, LAN_ADDRESS_RULE, MAX_LAN_ADDRESSES } from './lan-address.ts'

// JSON schemas of what a box sends the monitor (monitor-protocol.ts). Strict: unknown properties are refused.

const count = { type: 'integer', minimum: 0, maximum: Number.MAX_SAFE_INTEGER } as const
const bytes = count
const number = { type: 'number' } as const
const text = (maxLength: number) => ({ type: 'string', maxLength }) as const
const object = (properties: Record<string, unknown>) =>
  ({ type: 'object', additionalProperties: false, required: Object.keys(properties), properties }) as const
const isoTime = { type: 'string', pattern: '^\\d{4}-\\d{2}-\\d{2}T\\d{2}:\\d{2}:\\d{2}(\\.\\d+)?Z$' } as const
/** A catalogue holds thousands of CIDs, not millions. */
const MAX_CIDS = 100_000

/** POST body of REPORTS_PATH. The payload is parsed and checked against healthReportSchema after. */
export const signedReportSchema = {
  type: 'object',
  additionalProperties: false,
  required: ['payload', 'signature'],
  properties: { payload: text(8 * 1024 * 1024), signature: { type: 'string', pattern: '^[A-Za-z0-9_-]{1,200}$' } }
} as const

const systemStatsSchema = object({
  at: isoTime,
  cpu: object({
    loadPercent: number,
    load1: number,
    cores: count,
    temperatureC: { type: ['number', 'null'] },
    throttled: { type: ['integer', 'null'] }
  }),
  memory: object({ totalBytes: bytes, usedBytes: bytes, availableBytes: bytes }),
  disk: object({ totalBytes: bytes, usedBytes: bytes, freeBytes: bytes }),
  network: object({ rxBytes: bytes, txBytes: bytes })
})

const lanPresenceSchema = object({
  addresses: { type: 'array', maxItems: MAX_LAN_ADDRESSES, uniqueItems: true, items: text(39) },
  uiPort: { type: 'integer', minimum: 1, maximum: 65535 }
})

const reportSchema = object({
  deviceId: { type: 'string', pattern: '^[1-9A-HJ-NP-Za-km-z]{40,60}$' },
  seq: { type: 'integer', minimum: 1, maximum: Number.MAX_SAFE_INTEGER },
  timestamp: isoTime,
  version: text(64),
  uptimeSec: count,
  roles: { type: 'array', maxItems: 8, items: text(32) },
  apiUrl: { type: 'string', maxLength: 512 },
  multiaddrs: { type: 'array', maxItems: 64, items: text(512) },
  system: systemStatsSchema,
  storage: object({ pinsHeld: count, pinnedBytes: bytes, quotaBytes: bytes, replicaBytes: bytes }),
  replication: object({
    enabled: { type: 'boolean' },
    held: { type: 'array', maxItems: MAX_CIDS, items: { type: 'string', pattern: '^[a-zA-Z0-9]{10,200}$' } },
    assigned: count,
    met: count,
    missing: count
  }),
  service: object({
    peersConnected: count,
    streamsServed: count,
    chainSyncLag: { type: ['integer', 'null'] },
    errorsSinceLastReport: count
  })
})

const restWindowsSchema = {
  type: 'array',
  maxItems: MAX_REST_WINDOWS,
  items: object({ reason: { enum: Object.keys(MAX_REST_MS) }, start: isoTime, end: isoTime })
} as const

/** Every property required, except `lan` and `rest`: older releases do not send them (nor a box without rest windows). */
export const healthReportSchema = {
  ...reportSchema,
  properties: { ...reportSchema.properties, lan: lanPresenceSchema, rest: restWindowsSchema }
} as const

/** Why the report's rest windows are not ones the monitor counts: each ends after it starts, within its bound. */
function restWindowError(report: HealthReport): string | undefined {
  for (const [i, window] of (report.rest ?? []).entries()) {
    const length = Date.parse(window.end) - Date.parse(window.start)
    const bound = MAX_REST_MS[window.reason]
    if (!(length > 0 && length <= bound))
      return `payload /rest/${i} must end after it starts and last at most ${bound / 3_600_000} h (${window.reason})`
  }
  return undefined
}

const validate = new Ajv({ allErrors: false, allowUnionTypes: true }).compile<HealthReport>(healthReportSchema)

/** The report inside a signed payload, or why it is malformed. Says nothing of the signature. */
export function parseReport(signed: SignedReport): { report: HealthReport } | { error: string } {
  let value: unknown
  try {
    value = JSON.parse(signed.payload)
  } catch {
    return { error: 'payload is not JSON' }
  }
  if (!validate(value)) {
    const [first] = validate.errors ?? []
    return { error: `payload ${first?.instancePath || '/'} ${first?.message ?? 'is invalid'}` }
  }
  const notLan = value.lan?.addresses.findIndex(address => !isLanAddress(address)) ?? -1
  if (notLan !== -1) return { error: `payload /lan/addresses/${notLan} must be ${LAN_ADDRESS_RULE}` }
  const restError = restWindowError(value)
  if (restError !== undefined) return { error: restError }
  // scheme, host and port, written as the URL parser writes them (so one node has one URL)
  try {
    if (peerOrigin(value.apiUrl) !== value.apiUrl) return { error: `payload /apiUrl must be written as ${peerOrigin(value.apiUrl)}` }
  } catch (err) {
    return { error: `payload /apiUrl: ${(err as Error).message}` }
  }
  return { report: value }
}
