// The pin requests of the Pinning Service API, as the spec (ipfs/pinning-services-api-spec) names
// them: a Pin (what to pin), and its PinStatus (the request's id, state and creation time). They are
// kept in the state database, so a request acknowledged before a crash is still there after it.
import { randomUUID } from 'node:crypto'
import { section, type StateDb } from '../storage/state-db.ts'
import { SeedError } from '../lib/errors.ts'

export type PinState = 'queued' | 'pinning' | 'pinned' | 'failed'

/** What the client asks to pin. */
export interface Pin {
  cid: string
  name?: string
  /** Multiaddrs of peers that hold the DAG (the client's own node): dialled before fetching. */
  origins?: string[]
  meta?: Record<string, string>
}

export interface PinRequest {
  requestid: string
  status: PinState
  /** ISO time, unique among the requests: the spec pages listings by it. */
  created: string
  pin: Pin
  /** Why a request failed or waits, and the size of a pinned DAG (the spec's PinStatus.info). */
  info?: Record<string, string>
  /** File bytes of the pinned DAG: what it takes of the storage quota. */
  bytes?: number
  /** Pins that stalled so far (no block arrived in time). */
  stalls?: number
  /**
   * The CID of the request this one replaced (POST /pins/{requestid}): its pin stays until this one is
   * pinned or has failed, so the blocks both share are not collected in between.
   */
  replaces?: string
}

declare module '../storage/state-db.ts' {
  interface StateSchema {
    pinRequests: { [requestid: string]: PinRequest }
  }
}

export type TextMatch = 'exact' | 'iexact' | 'partial' | 'ipartial'

/** GET /pins's filters, parsed. */
export interface PinFilter {
  cids?: string[]
  name?: string
  match: TextMatch
  statuses: PinState[]
  before?: string
  after?: string
  limit: number
  meta?: Record<string, string>
}

export interface PinRequests {
  add(pin: Pin, replaces?: string): Promise<PinRequest>
  get(requestid: string): Promise<PinRequest>
  /** Changes a request that still exists (a request deleted meanwhile stays deleted); the request as changed, or undefined. */
  update(requestid: string, change: (request: PinRequest) => void): Promise<PinRequest | undefined>
  remove(requestid: string): Promise<PinRequest>
  all(): Promise<PinRequest[]>
  /** The spec's listing: the total that match, and the first `limit` of them, newest first. */
  list(filter: PinFilter): Promise<{ count: number; results: PinRequest[] }>
}

export function createPinRequests(db: StateDb): PinRequests {
  const store = section(db, 'pinRequests')
  let lastCreated = 0
  const all = async (): Promise<PinRequest[]> => (await store.entries()).map(([, request]) => request)
  const get = async (requestid: string): Promise<PinRequest> => {
    const request = await store.get(requestid)
    if (request === undefined)
      throw new SeedError('SEED_PIN_REQUEST_NOT_FOUND', `no pin request has the id ${requestid}: list the pins to see theirs`)
    return request
  }
  return {
    async add(pin, replaces) {
      // a millisecond past the last one when two come in the same one: `created` pages the listings
      if (lastCreated === 0) lastCreated = Math.max(0, ...(await all()).map(r => Date.parse(r.created)))
      lastCreated = Math.max(Date.now(), lastCreated + 1)
      const request: PinRequest = { requestid: randomUUID(), status: 'queued', created: new Date(lastCreated).toISOString(), pin }
      if (replaces !== undefined && replaces !== pin.cid) request.replaces = replaces
      await store.put(request.requestid, request)
      return request
    },
    get,
    async update(requestid, change) {
      const request = await store.get(requestid)
      if (request === undefined) return undefined
      change(request)
      await store.put(requestid, request)
      return request
    },
    async remove(requestid) {
      const request = await get(requestid)
      await store.del(requestid)
      return request
    },
    all,
    async list(filter) {
      const matching = (await all()).filter(request => matches(request, filter)).sort((a, b) => b.created.localeCompare(a.created))
      return { count: matching.length, results: matching.slice(0, filter.limit) }
    }
  }
}

function nameMatches(name: string | undefined, wanted: string, match: TextMatch): boolean {
  if (name === undefined) return false
  const [have, want] = match.startsWith('i') ? [name.toLowerCase(), wanted.toLowerCase()] : [name, wanted]
  return match.endsWith('partial') ? have.includes(want) : have === want
}

function matches(request: PinRequest, filter: PinFilter): boolean {
  const { pin } = request
  if (filter.cids !== undefined && !filter.cids.includes(pin.cid)) return false
  if (filter.name !== undefined && !nameMatches(pin.name, filter.name, filter.match)) return false
  if (!filter.statuses.includes(request.status)) return false
  if (filter.before !== undefined && !(request.created < filter.before)) return false
  if (filter.after !== undefined && !(request.created > filter.after)) return false
  if (filter.meta !== undefined && !Object.entries(filter.meta).every(([key, value]) => pin.meta?.[key] === value)) return false
  return true
}
