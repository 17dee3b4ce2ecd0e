/** How many key releases a bucket allows at once, and how fast it refills. */
export interface ReleaseLimit {
  burst: number
  perHour: number
}

export interface ReleaseLimits {
  perDevice: ReleaseLimit
  perOwner: ReleaseLimit
}

/**
 * A box asks once per film when it syncs its library (and again for each film after the 30-day
 * offline grace), so a device may take 2 000 keys at once, a collection far larger than any one
 * person's shelf, then 3 600 an hour. An owner's boxes together (a few screens) may take 10 000 at
 * once, then 18 000 an hour. A stolen authorisation or a runaway client is slowed; a sync never is.
 */
export const DEFAULT_RELEASE_LIMITS: ReleaseLimits = {
  perDevice: { burst: 2_000, perHour: 3_600 },
  perOwner: { burst: 10_000, perHour: 18_000 }
}

/** Entries idle long enough to be full again are dropped, so the maps stay as small as the active clients. */
const SWEEP_EVERY = 1_000

/** Token buckets by name (device id, owner address), in memory: a restart refills them, which only ever allows a burst. */
function createReleaseLimiter(
  limit: ReleaseLimit,
  now: () => number = Date.now
): (name: string) => { allowed: boolean; retryAfterSeconds: number } {
  const buckets = new Map<string, { tokens: number; at: number }>()
  const perMs = limit.perHour / 3_600_000
  let calls = 0
  const refilled = (bucket: { tokens: number; at: number }, t: number): number =>
    Math.min(limit.burst, bucket.tokens + (t - bucket.at) * perMs)
  return name => {
    const t = now()
    if (++calls % SWEEP_EVERY === 0) {
      for (const [key, bucket] of buckets) if (refilled(bucket, t) >= limit.burst) buckets.delete(key)
    }
    const bucket = buckets.get(name) ?? { tokens: limit.burst, at: t }
    const tokens = refilled(bucket, t)
    if (tokens < 1) return { allowed: false, retryAfterSeconds: Math.ceil((1 - tokens) / perMs / 1000) }
    buckets.set(name, { tokens: tokens - 1, at: t })
    return { allowed: true, retryAfterSeconds: 0 }
  }
}

/** Both allowances of DEFAULT_RELEASE_LIMITS' kind: a refusal, with when to come back, once either is spent. */
export function createKeyReleaseLimits(
  limits: ReleaseLimits
): (deviceId: string, owner: string) => { reason: string; retryAfterSeconds: number } | undefined {
  const perDevice = createReleaseLimiter(limits.perDevice)
  const perOwner = createReleaseLimiter(limits.perOwner)
  return (deviceId, owner) => {
    for (const [take, what] of [
      [() => perDevice(deviceId), 'this device'],
      [() => perOwner(owner), `the devices of ${owner}`]
    ] as const) {
      const { allowed, retryAfterSeconds } = take()
      if (!allowed) return { reason: `too many film keys asked for ${what}: try again in ${retryAfterSeconds} s`, retryAfterSeconds }
    }
    return undefined
  }
}
