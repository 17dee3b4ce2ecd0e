// The simulation's results as table rows (bench/report.ts's Row): placement balance by quota class,
// one summary row per scenario, and the week day by day.
import type { Row } from '../report.ts'
import { quantile } from '../report.ts'
import type { Episode, SimResult } from './engine.ts'
import { units } from './world.ts'

const gib = (bytes: number): string => (bytes / units.GB).toFixed(1)
const minutes = (seconds: number): string => (seconds / 60).toFixed(0)
const ratio = (max: number, mean: number): string => (mean === 0 ? '–' : (max / mean).toFixed(2))

/** Load per node after the initial placement, by quota class and over all nodes. */
export function placementRows(result: SimResult): Record<string, Row> {
  const groups = new Map<string, SimResult['initialLoad']>([['all nodes', result.initialLoad]])
  for (const load of result.initialLoad) groups.set(load.spec.quotaClass, [...(groups.get(load.spec.quotaClass) ?? []), load])
  const rows: Record<string, Row> = {}
  for (const [name, loads] of groups) {
    const cids = loads.map(l => l.cids)
    const bytes = loads.map(l => l.bytes)
    const meanCids = cids.reduce((a, b) => a + b, 0) / loads.length
    const meanBytes = bytes.reduce((a, b) => a + b, 0) / loads.length
    rows[name] = {
      nodes: loads.length,
      'CIDs mean': meanCids.toFixed(1),
      'CIDs max': Math.max(...cids),
      'CIDs max/mean': ratio(Math.max(...cids), meanCids),
      'GiB mean': gib(meanBytes),
      'GiB max': gib(Math.max(...bytes)),
      'bytes max/mean': ratio(Math.max(...bytes), meanBytes),
      'nodes ≥ 90% full': loads.filter(l => l.bytes >= 0.9 * l.spec.quotaBytes).length
    }
  }
  return rows
}

/** Durations of the episodes in seconds: p50, p90, p99, max (open ones count to the end of the run). */
function durations(episodes: Episode[]): Row {
  const lengths = episodes.map(e => e.end - e.start)
  if (lengths.length === 0) return { episodes: 0 }
  return {
    'CIDs that dipped': new Set(episodes.map(e => e.cid)).size,
    episodes: episodes.length,
    'min p50': minutes(quantile(lengths, 0.5)),
    'min p90': minutes(quantile(lengths, 0.9)),
    'min p99': minutes(quantile(lengths, 0.99)),
    // a week has hundreds of thousands of episodes: too many to spread as arguments
    'min max': minutes(lengths.reduce((a, b) => Math.max(a, b), 0)),
    'still under at end': episodes.filter(e => e.open).length
  }
}

/** Repair traffic and time under k (and under the monitor's minimum) for one scenario. */
export function scenarioRows(id: string, result: SimResult, k: number, minReplicas: number): Record<string, Row> {
  // each sample stands for the tick before it
  const cidHours = (pick: (s: SimResult['samples'][number]) => number): string =>
    (result.samples.reduce((sum, s, i) => sum + pick(s) * (s.at - (result.samples[i - 1]?.at ?? 0)), 0) / 3600).toFixed(0)
  const traffic: Row = {
    'fetched GiB': gib(result.fetchedBytes),
    'lost GiB': gib(result.lostBytes),
    'released GiB': gib(result.releasedBytes),
    'reused GiB': gib(result.reusedBytes),
    'max under k at once': Math.max(0, ...result.samples.map(s => s.underK)),
    'CID-hours under k': cidHours(s => s.underK),
    'max without a copy': Math.max(0, ...result.samples.map(s => s.withoutCopy)),
    'CID-hours without a copy': cidHours(s => s.withoutCopy),
    'assign ms p50': quantile(result.assignMs, 0.5)?.toFixed(0) ?? '–'
  }
  const underK = minReplicas === k ? `${id}: under k=${k} (the monitor's min too)` : `${id}: under k=${k}`
  const rows: Record<string, Row> = { [`${id}: traffic`]: traffic, [underK]: durations(result.underK) }
  if (minReplicas !== k) rows[`${id}: under min=${minReplicas}`] = durations(result.underMin)
  return rows
}

/** The run day by day: repair bytes, the fewest live nodes, the most CIDs under k. */
export function dailyRows(result: SimResult): Record<string, Row> {
  const rows: Record<string, Row> = {}
  result.fetchedByDay.forEach((bytes, day) => {
    const samples = result.samples.filter(s => s.at > day * 86_400 && s.at <= (day + 1) * 86_400)
    rows[`day ${day + 1}`] = {
      'fetched GiB': gib(bytes),
      'live nodes min': Math.min(...samples.map(s => s.live)),
      'live nodes max': Math.max(...samples.map(s => s.live)),
      'max under k': Math.max(...samples.map(s => s.underK)),
      'max without a copy': Math.max(...samples.map(s => s.withoutCopy)),
      'mean copies min': Math.min(...samples.map(s => s.meanCopies)).toFixed(2),
      'mean copies max': Math.max(...samples.map(s => s.meanCopies)).toFixed(2)
    }
  })
  return rows
}
