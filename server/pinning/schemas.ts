// The JSON shapes of the IPFS Pinning Service API (ipfs/pinning-services-api-spec, v1), as this box
// validates and answers them.

const cid = { type: 'string', minLength: 8, maxLength: 200, pattern: '^[A-Za-z0-9]+$' }
/** The spec's limits: a name of 255 characters, 20 origins or delegates, meta of string values. */
const name = { type: 'string', maxLength: 255 }
const multiaddrs = { type: 'array', maxItems: 20, uniqueItems: true, items: { type: 'string', minLength: 1, maxLength: 1024 } }
const stringMap = { type: 'object', maxProperties: 100, additionalProperties: { type: 'string', maxLength: 2048 } }
const status = { type: 'string', enum: ['queued', 'pinning', 'pinned', 'failed'] }

export const pinSchema = {
  type: 'object',
  additionalProperties: false,
  required: ['cid'],
  properties: { cid, name, origins: multiaddrs, meta: stringMap }
} as const

export const pinStatusSchema = {
  type: 'object',
  required: ['requestid', 'status', 'created', 'pin', 'delegates'],
  properties: {
    requestid: { type: 'string' },
    status,
    created: { type: 'string', format: 'date-time' },
    pin: pinSchema,
    delegates: { ...multiaddrs, minItems: 1 },
    info: stringMap
  }
} as const

export const pinResultsSchema = {
  type: 'object',
  required: ['count', 'results'],
  properties: { count: { type: 'integer', minimum: 0 }, results: { type: 'array', items: pinStatusSchema } }
} as const

/** The spec's Failure: every error answer of the API. */
export const failureSchema = {
  type: 'object',
  required: ['error'],
  properties: { error: { type: 'object', required: ['reason'], properties: { reason: { type: 'string' }, details: { type: 'string' } } } }
} as const

/** GET /pins's query: strings, as a query carries them (the app does not coerce types), parsed by the route. */
export const pinQuerySchema = {
  type: 'object',
  additionalProperties: false,
  properties: {
    cid: { type: 'string', maxLength: 2010, pattern: '^[A-Za-z0-9]+(,[A-Za-z0-9]+){0,9}$' },
    name,
    match: { type: 'string', enum: ['exact', 'iexact', 'partial', 'ipartial'] },
    status: { type: 'string', pattern: '^(queued|pinning|pinned|failed)(,(queued|pinning|pinned|failed))*$' },
    before: { type: 'string', format: 'date-time' },
    after: { type: 'string', format: 'date-time' },
    limit: { type: 'string', pattern: '^[0-9]{1,4}$' },
    meta: { type: 'string', maxLength: 4096 }
  }
} as const

export const requestIdParams = {
  type: 'object',
  required: ['requestid'],
  properties: { requestid: { type: 'string', pattern: '^[0-9a-f-]{36}$' } }
} as const

export const tokenSchema = {
  type: 'object',
  required: ['id', 'name', 'created'],
  properties: { id: { type: 'string' }, name: { type: 'string' }, created: { type: 'string', format: 'date-time' } }
} as const
