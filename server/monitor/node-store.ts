import { writeBatch, type StateDb } from '../storage/state-db.ts'
import type { HealthReport } from '../wire/monitor-protocol.ts'

/** What the monitor keeps of one node: its latest accepted report and when it came. */
export interface NodeRecord {
  deviceId: string
  report: HealthReport
  /** Monitor time the latest report arrived (liveness is judged on the monitor's clock, not the box's). */
  receivedAt: string
  firstSeenAt: string
  /** The report's apiUrl once it answered with a statement signed by this node's key (node-identity.ts). */
  verifiedApiUrl?: string
  /** Claimed CIDs the node passed a challenge for since it claimed them: its copies that count. */
  verifiedHeld?: string[]
}

/** One node's proof-of-holding record. */
export interface ChallengeRecord {
  passed: number
  failed: number
  /** Challenges failed in a row, per CID (a CID leaves the map once passed). */
  streaks: Record<string, number>
  /** CIDs failed `failuresBeforeFailed` times in a row and not passed since. */
  failedCids: string[]
  last: { at: string; cid: string; passed: boolean; reason?: string } | null
}

/**
 * A report as the history keeps it: its held list only counted (a node's latest report keeps the list),
 * since thousands of CIDs in every report of every node for the whole retention would dwarf the rest.
 */
export type HistoryReport = Omit<HealthReport, 'replication'> & {
  replication: Omit<HealthReport['replication'], 'held'> & { heldCount: number }
}

export interface HistoryEntry {
  receivedAt: string
  report: HistoryReport
}

export type AcceptResult = { accepted: true } | { accepted: false; lastSeq: number }

export interface NodeStore {
  /** Stores `report` as the node's latest and in its history, unless its seq is not above the last accepted one. */
  accept(report: HealthReport, receivedAt: Date): Promise<AcceptResult>
  nodes(): Promise<NodeRecord[]>
  node(deviceId: string): Promise<NodeRecord | undefined>
  history(deviceId: string, limit: number): Promise<HistoryEntry[]>
  /** Deletes history received before `cutoff`: how many entries went. */
  pruneHistory(cutoff: Date): Promise<number>
  /** Deletes nodes whose latest report came before `cutoff`, with their challenge records (their last seq stays enforced): how many went. */
  pruneNodes(cutoff: Date): Promise<number>
  /** Records that `apiUrl` answered for the node, unless its reports name another URL by now: whether it was recorded. */
  verifyApiUrl(deviceId: string, apiUrl: string): Promise<boolean>
  /**
   * Counts `cid` as held by the node after it passed a challenge for it, while it still claims it. A
   * later failure does not undo this: failing repeatedly puts the CID in the failed list, as before.
   */
  verifyHolding(deviceId: string, cid: string): Promise<void>
  challenges(deviceId: string): Promise<ChallengeRecord>
  updateChallenges(deviceId: string, update: (record: ChallengeRecord) => ChallengeRecord): Promise<ChallengeRecord>
}

const seqKey = (seq: number): string => String(seq).padStart(16, '0')
const emptyChallenges = (): ChallengeRecord => ({ passed: 0, failed: 0, streaks: {}, failedCids: [], last: null })

/**
 * The monitor's state in its own level database: nodes (latest report each), history by node and
 * seq, a time index of the history for pruning, and challenge records. Every change is one synced
 * batch; changes to one node run one at a time, so a seq is checked and stored without a race.
 */
type Levels = ReturnType<typeof openLevels>
type Serial = <T>(key: string, step: () => Promise<T>) => Promise<T>

export function createNodeStore(db: StateDb): NodeStore {
  const levels = openLevels(db)
  const { nodes, history, challenges } = levels
  const serial = perKeySerial()
  return {
    accept: (report, receivedAt) => serial(report.deviceId, async () => await acceptReport(levels, report, receivedAt)),
    nodes: async () => await nodes.values().all(),
    node: async deviceId => await nodes.get(deviceId),
    history: async (deviceId, limit) =>
      (await history.values({ gt: `${deviceId}!`, lt: `${deviceId}"`, reverse: true, limit }).all()).reverse(),
    pruneHistory: async cutoff => await pruneHistory(levels, cutoff),
    pruneNodes: async cutoff => await pruneNodes(levels, serial, cutoff),
    verifyApiUrl: (deviceId, apiUrl) =>
      serial(deviceId, async () => {
        const node = await nodes.get(deviceId)
        if (node?.report.apiUrl !== apiUrl) return false
        await writeBatch(db, [{ type: 'put', sublevel: nodes, key: deviceId, value: { ...node, verifiedApiUrl: apiUrl } }])
        return true
      }),
    verifyHolding: (deviceId, cid) =>
      serial(deviceId, async () => {
        const node = await nodes.get(deviceId)
        const verifiedHeld = node?.verifiedHeld ?? []
        if (node === undefined || verifiedHeld.includes(cid) || !node.report.replication.held.includes(cid)) return
        await writeBatch(db, [{ type: 'put', sublevel: nodes, key: deviceId, value: { ...node, verifiedHeld: [...verifiedHeld, cid] } }])
      }),
    challenges: async deviceId => (await challenges.get(deviceId)) ?? emptyChallenges(),
    updateChallenges: (deviceId, update) =>
      serial(`challenges!${deviceId}`, async () => {
        const record = update((await challenges.get(deviceId)) ?? emptyChallenges())
        await writeBatch(db, [{ type: 'put', sublevel: challenges, key: deviceId, value: record }])
        return record
      })
  }
}

function openLevels(db: StateDb) {
  return {
    db,
    nodes: db.sublevel<string, NodeRecord>('nodes', { valueEncoding: 'json' }),
    history: db.sublevel<string, HistoryEntry>('history', { valueEncoding: 'json' }),
    // key: receivedAt ISO + '!' + deviceId + '!' + seq; value: the history key
    byTime: db.sublevel<string, string>('history-by-time', { valueEncoding: 'json' }),
    challenges: db.sublevel<string, ChallengeRecord>('challenges', { valueEncoding: 'json' }),
    // the last seq of nodes pruned from the registry: their old reports cannot be replayed to bring them back
    retiredSeqs: db.sublevel<string, number>('retired-seqs', { valueEncoding: 'json' })
  }
}

/** Runs the steps given one key one at a time, in order; steps of different keys run side by side. */
function perKeySerial(): Serial {
  const turns = new Map<string, Promise<unknown>>()
  return <T>(key: string, step: () => Promise<T>): Promise<T> => {
    const result = (turns.get(key) ?? Promise.resolve()).then(step)
    const settled = result.catch(() => {})
    turns.set(key, settled)
    void settled.then(() => {
      if (turns.get(key) === settled) turns.delete(key)
    })
    return result
  }
}

/** Keeps `report` as the node's latest and in its history, unless its seq is not above the last accepted one (run in the node's turn). */
async function acceptReport(levels: Levels, report: HealthReport, receivedAt: Date): Promise<AcceptResult> {
  const { db, nodes, history, byTime, retiredSeqs } = levels
  const known = await nodes.get(report.deviceId)
  const lastSeq = known?.report.seq ?? (await retiredSeqs.get(report.deviceId))
  if (lastSeq !== undefined && report.seq <= lastSeq) return { accepted: false, lastSeq }
  const at = receivedAt.toISOString()
  const historyKey = `${report.deviceId}!${seqKey(report.seq)}`
  const { held, ...replication } = report.replication
  const claimed = new Set(held)
  const entry: HistoryEntry = { receivedAt: at, report: { ...report, replication: { ...replication, heldCount: held.length } } }
  await writeBatch(db, [
    {
      type: 'put',
      sublevel: nodes,
      key: report.deviceId,
      value: {
        deviceId: report.deviceId,
        report,
        receivedAt: at,
        firstSeenAt: known?.firstSeenAt ?? at,
        // a new URL must answer for the node again; a CID no longer claimed must pass again once claimed again
        ...(known?.verifiedApiUrl === report.apiUrl ? { verifiedApiUrl: report.apiUrl } : {}),
        verifiedHeld: (known?.verifiedHeld ?? []).filter(cid => claimed.has(cid))
      }
    },
    { type: 'put', sublevel: history, key: historyKey, value: entry },
    { type: 'put', sublevel: byTime, key: `${at}!${historyKey}`, value: historyKey }
  ])
  return { accepted: true }
}

async function pruneHistory({ db, history, byTime }: Levels, cutoff: Date): Promise<number> {
  const old = await byTime.iterator({ lt: cutoff.toISOString() }).all()
  if (old.length === 0) return 0
  await writeBatch(
    db,
    old.flatMap(([timeKey, historyKey]) => [
      { type: 'del' as const, sublevel: history, key: historyKey },
      { type: 'del' as const, sublevel: byTime, key: timeKey }
    ])
  )
  return old.length
}

async function pruneNodes({ db, nodes, challenges, retiredSeqs }: Levels, serial: Serial, cutoff: Date): Promise<number> {
  const before = cutoff.toISOString()
  let removed = 0
  for (const node of (await nodes.values().all()).filter(n => n.receivedAt < before)) {
    await serial(node.deviceId, async () => {
      const current = await nodes.get(node.deviceId)
      if (current === undefined || current.receivedAt >= before) return
      removed++
      await writeBatch(db, [
        { type: 'del', sublevel: nodes, key: node.deviceId },
        { type: 'del', sublevel: challenges, key: node.deviceId },
        { type: 'put', sublevel: retiredSeqs, key: node.deviceId, value: current.report.seq }
      ])
    })
  }
  return removed
}
