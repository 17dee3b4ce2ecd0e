// The simulated network's fixed parts, drawn from a seeded RNG so that a run is reproducible: the
// catalogue (films of two CIDs each, as server/replication/catalogue.ts lists them) and the nodes
// (home boxes and creators' racks, their quotas, rates and time zones).
import type { CatalogueEntry } from '../../server/replication/catalogue.ts'

/** Uniform in [0, 1). */
export type Rng = () => number

/** mulberry32: small, fast and good enough to draw a world from; the same seed gives the same world. */
export function seededRng(seed: number): Rng {
  let state = seed >>> 0
  return () => {
    state = (state + 0x6d2b79f5) >>> 0
    let x = Math.imul(state ^ (state >>> 15), 1 | state)
    x = (x + Math.imul(x ^ (x >>> 7), 61 | x)) ^ x
    return ((x ^ (x >>> 14)) >>> 0) / 2 ** 32
  }
}

/** Exponentially distributed with this mean. */
export const exponential = (rng: Rng, mean: number): number => -mean * Math.log(1 - rng())

/** Log-normal with this median and shape (Box-Muller). */
function logNormal(rng: Rng, median: number, sigma: number): number {
  const normal = Math.sqrt(-2 * Math.log(1 - rng())) * Math.cos(2 * Math.PI * rng())
  return median * Math.exp(sigma * normal)
}

const KB = 1024
const MB = 1024 ** 2
const GB = 1024 ** 3
const TB = 1024 ** 4

/**
 * A film is the catalogue's two CIDs: its metadata JSON (2–8 KiB; the poster is inside the sealed
 * content's DAG, not a CID of its own) and its sealed content (log-normal, median 1.5 GiB, clamped to
 * 200 MiB–12 GiB: a feature film at streaming bit rates). The unit placed is the CID, as in the real
 * code; a CID's blocks are fetched within one pin, so the harness moves whole CIDs at a node's rate.
 */
export function makeCatalogue(cids: number, rng: Rng): CatalogueEntry[] {
  const entries: CatalogueEntry[] = []
  for (let film = 0; entries.length < cids; film++) {
    const tokenId = String(film + 1)
    entries.push({
      cid: `sim-film-${tokenId}-metadata`,
      bytes: Math.round(2 * KB + rng() * 6 * KB),
      tokenId,
      kind: 'metadata',
      name: 'metadata'
    })
    if (entries.length === cids) break
    const bytes = Math.round(Math.min(12 * GB, Math.max(200 * MB, logNormal(rng, 1.5 * GB, 0.6))))
    entries.push({ cid: `sim-film-${tokenId}-content`, bytes, tokenId, kind: 'content', name: 'content' })
  }
  return entries
}

export interface NodeSpec {
  index: number
  id: string
  kind: 'box' | 'rack'
  /** The quota class the placement table groups by. */
  quotaClass: string
  quotaBytes: number
  /** What one fetch gets per second: a home peer's uplink bounds a box's, a rack fetches from racks too. */
  rateBytesPerSec: number
  /** Local time minus UTC: nightly schedules and the daily garbage collection follow local time. */
  utcOffsetHours: number
}

interface NodeClass {
  share: number
  kind: NodeSpec['kind']
  quotaClass: string
  quotaBytes: number
  rateBytesPerSec: number
}

/**
 * The population: 5% creators' racks (8 TiB, 400 Mbit/s) and home boxes whose owners give 16 GiB
 * (a small disk), 256 GiB or 1 TiB, fetching at 20 Mbit/s (a home uplink, the usual bottleneck).
 */
const CLASSES: NodeClass[] = [
  { share: 0.05, kind: 'rack', quotaClass: 'rack 8 TiB', quotaBytes: 8 * TB, rateBytesPerSec: 50 * MB },
  { share: 0.19, kind: 'box', quotaClass: 'box 16 GiB', quotaBytes: 16 * GB, rateBytesPerSec: 2.5 * MB },
  { share: 0.4, kind: 'box', quotaClass: 'box 256 GiB', quotaBytes: 256 * GB, rateBytesPerSec: 2.5 * MB },
  { share: 0.36, kind: 'box', quotaClass: 'box 1 TiB', quotaBytes: 1 * TB, rateBytesPerSec: 2.5 * MB }
]

export function makeNodes(count: number, rng: Rng): NodeSpec[] {
  return Array.from({ length: count }, (_, index) => {
    let draw = rng()
    const { kind, quotaClass, quotaBytes, rateBytesPerSec } = CLASSES.find(c => (draw -= c.share) < 0) ?? CLASSES[CLASSES.length - 1]
    // most of a network like this sits between the Americas and Europe
    const utcOffsetHours = Math.floor(rng() * 18) - 8
    return { index, id: `sim-node-${index}`, kind, quotaClass, quotaBytes, rateBytesPerSec, utcOffsetHours }
  })
}

export const units = { KB, MB, GB, TB }
