// The work behind the Pinning Service API: queued requests are pinned one at a time, oldest first,
// with the replicas' machinery (pinWithProgress: the DAG bounds, the block fetcher, the stall
// timer), within the storage quota the replicas also count against, and never in quiet hours: a
// request then stays queued, and the queue resumes when they end.
import type { FastifyBaseLogger } from 'fastify'
import { CID } from 'multiformats/cid'
import { multiaddr } from '@multiformats/multiaddr'
import type { StorageNode } from '../storage/helia-node.ts'
import { pinWithProgress } from '../storage/content.ts'
import type { SettingsStore } from '../settings/settings.ts'
import { coalescedRuns } from '../lib/coalesced-runs.ts'
import type { QuietHours } from '../replication/quiet-hours.ts'
import { unpinLocal } from '../replication/local-unpin.ts'
import type { PinRequest, PinRequests } from './pin-requests.ts'

export interface RemotePinsOptions {
  helia: StorageNode
  requests: PinRequests
  settings: SettingsStore
  quietHours: QuietHours
  /** Bytes the quota holds for others (the replicas), beside the remote pins. */
  otherBytes(): Promise<number>
  /** Whether the box pins this CID for another reason (a replica, the owner's library): deleting its last request then leaves the pin. */
  pinnedElsewhere(cid: string): Promise<boolean>
  /** A pin that receives no block for this long is queued again. */
  pinStallMs: number
  log: FastifyBaseLogger
}

export interface RemotePins {
  /** Looks at the queue now (a request came in, quiet hours ended). */
  wake(): void
  /**
   * After a request was deleted: stops its pin if it is in progress, and unpins its CID (and the one it
   * replaced) when nothing else holds it; `keepPin`: it was replaced, and its replacement releases it.
   */
  release(request: PinRequest, keepPin?: boolean): Promise<void>
  /** Bytes of the storage quota left for a new pin, now. */
  quotaLeft(): Promise<number>
  /** File bytes the remote pins hold, each CID counted once. */
  heldBytes(): Promise<number>
  /** Whether a request (in any state but failed) is for `cid`: the box keeps its pin. */
  holds(cid: string): Promise<boolean>
  close(): Promise<void>
}

/** Stalls after which a request fails rather than being queued again: its blocks are nowhere to be found. */
const MAX_STALLS = 3
/** How long the origins a client named are given to answer a dial. */
const ORIGIN_DIAL_MS = 5_000

export function createRemotePins(opts: RemotePinsOptions): RemotePins {
  const { requests, quietHours, log } = opts
  const closing = new AbortController()
  let current: { requestid: string; stop: AbortController } | undefined

  const heldBytes = async (except?: string): Promise<number> => {
    const sizes = new Map<string, number>()
    for (const r of await requests.all()) if (r.bytes !== undefined && r.pin.cid !== except) sizes.set(r.pin.cid, r.bytes)
    return [...sizes.values()].reduce((sum, bytes) => sum + bytes, 0)
  }
  const quotaLeft = async (except?: string): Promise<number> =>
    (await opts.settings.get()).storageQuotaBytes - (await opts.otherBytes()) - (await heldBytes(except))

  const runs = coalescedRuns(async () => {
    for (;;) {
      if (closing.signal.aborted || quietHours.quiet()) return false
      const next = (await requests.all()).filter(r => r.status === 'queued').sort((a, b) => a.created.localeCompare(b.created))[0]
      if (next === undefined) return true
      current = { requestid: next.requestid, stop: new AbortController() }
      // a request whose state cannot even be written (a full disk) stops the queue until the next wake
      // (a new request, the end of quiet hours, a restart) rather than being tried again at once
      const done = await pinRequest({ ...opts, quotaLeft }, next, current.stop.signal).then(
        () => true,
        err => {
          log.warn({ requestid: next.requestid, err: (err as Error).message }, 'remote pin could not be recorded; the queue waits')
          return false
        }
      )
      current = undefined
      if (!done) return false
    }
  })
  const wake = (): void => void runs.request()
  const unsubscribe = quietHours.onChange(quiet => {
    if (quiet) current?.stop.abort()
    else wake()
  })

  return {
    wake,
    async release(request, keepPin = false) {
      if (current?.requestid === request.requestid) current.stop.abort()
      if (!keepPin) await releaseIfUnused(opts, request.pin.cid)
      if (request.replaces !== undefined) await releaseIfUnused(opts, request.replaces)
    },
    quotaLeft: async () => await quotaLeft(),
    heldBytes: async () => await heldBytes(),
    holds: async cid => (await requests.all()).some(r => r.pin.cid === cid && r.status !== 'failed'),
    async close() {
      closing.abort()
      current?.stop.abort()
      unsubscribe()
      await runs.settled()
    }
  }
}

type PinContext = RemotePinsOptions & { quotaLeft(except?: string): Promise<number> }

/** Pins one request: pinned, failed with the reason in its info, or queued again (stopped or stalled). */
async function pinRequest(ctx: PinContext, request: PinRequest, stopped: AbortSignal): Promise<void> {
  const { helia, requests } = ctx
  const { requestid } = request
  const cid = CID.parse(request.pin.cid)
  await requests.update(requestid, r => {
    r.status = 'pinning'
  })
  const stall = new AbortController()
  const timer = setTimeout(() => stall.abort(), ctx.pinStallMs)
  const signal = AbortSignal.any([stopped, stall.signal])
  try {
    await dialOrigins(helia, request.pin.origins ?? [], signal)
    // the root says how many bytes the DAG holds: a pin the quota has no room for fails before any leaf is fetched
    const bytes = await helia.content.fileSize(cid, signal)
    const left = await ctx.quotaLeft(request.pin.cid)
    if (bytes > left) {
      await settle(ctx, request, 'failed', {
        status_details: `the DAG holds ${bytes} bytes and the storage quota has ${Math.max(left, 0)} left: raise the quota in Settings or delete pins`
      })
      return
    }
    const bound = { what: `pin request ${requestid}`, bytes, exact: true }
    await pinWithProgress(helia, cid, { bound, signal, onProgress: () => timer.refresh() })
    await settle(ctx, request, 'pinned', { dag_size: `${bytes}` }, bytes)
    // deleted while it was pinning: nothing may hold it now
    await releaseIfUnused(ctx, request.pin.cid)
    ctx.log.info({ requestid, cid: request.pin.cid, bytes }, 'remote pin pinned')
  } catch (err) {
    if (stopped.aborted) await settle(ctx, request, 'queued', { status_details: 'waiting: quiet hours, or the box is stopping' })
    else if (stall.signal.aborted) await stalled(ctx, requestid)
    else await settle(ctx, request, 'failed', { status_details: (err as Error).message })
  } finally {
    clearTimeout(timer)
  }
}

async function settle(
  ctx: PinContext,
  request: PinRequest,
  status: PinRequest['status'],
  info: Record<string, string>,
  bytes?: number
): Promise<void> {
  // done either way: the pin it replaced has kept the shared blocks long enough
  if (request.replaces !== undefined && status !== 'queued') await releaseIfUnused(ctx, request.replaces)
  await ctx.requests.update(request.requestid, r => {
    r.status = status
    r.info = info
    if (bytes !== undefined) r.bytes = bytes
  })
}

async function stalled(ctx: PinContext, requestid: string): Promise<void> {
  const request = await ctx.requests.update(requestid, r => {
    r.stalls = (r.stalls ?? 0) + 1
  })
  if (request === undefined) return
  const waited = `no block arrived for ${ctx.pinStallMs / 1000} s`
  if ((request.stalls ?? 0) >= MAX_STALLS)
    await settle(ctx, request, 'failed', { status_details: `${waited}, ${MAX_STALLS} times: name an origin that holds it` })
  else await settle(ctx, request, 'queued', { status_details: `${waited}; trying again` })
}

/** Dials the peers the client named, best effort (the spec's provider hints): a failed dial fails nothing. */
async function dialOrigins(helia: StorageNode, origins: string[], signal: AbortSignal): Promise<void> {
  const timeout = AbortSignal.any([signal, AbortSignal.timeout(ORIGIN_DIAL_MS)])
  await Promise.allSettled(origins.map(async origin => await helia.libp2p.dial(multiaddr(origin), { signal: timeout })))
}

/** Unpins `cid` when no request and nothing else on the box holds it (its blocks go at the daily collection). */
async function releaseIfUnused(opts: RemotePinsOptions, cid: string): Promise<void> {
  if ((await opts.requests.all()).some(r => r.pin.cid === cid)) return
  if (await opts.pinnedElsewhere(cid)) return
  await unpinLocal(opts.helia, CID.parse(cid))
}
