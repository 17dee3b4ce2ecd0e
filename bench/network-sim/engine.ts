// The storage network in simulated time, through the real decisions: each node reports, the
// monitor lists it through registryNode (live within --node-timeout-sec), every live node assigns the
// catalogue over the registry's assignable nodes (node-set.ts, assignment.ts), releases surplus once
// confirmed (surplus-release.ts, release-confirmation.ts) and pins what pinCandidates gives it
// (replica-pins.ts) at its rate, and the monitor counts copies with replicationHealth. What is
// simulated is only what has no pure decision: time, the network's bytes, the disks.
//
// Every live node sees the same registry and its own listed quota, so every live node computes the
// same assignment (the assignment test shows the order nodes are listed in does not matter): it is
// computed once per tick, with one node's view, instead of 10 000 times.
import type { CatalogueEntry } from '../../server/replication/catalogue.ts'
import type { Assigner, Assignment } from '../../server/replication/assignment.ts'
import { assignableNodes, listedSelfOf, otherStorageNodes, registryPresence } from '../../server/replication/node-set.ts'
import { pinCandidates } from '../../server/replication/replica-pins.ts'
import { surplusReplicas } from '../../server/replication/surplus-release.ts'
import { createReleaseConfirmations, type ReleaseConfirmations } from '../../server/replication/release-confirmation.ts'
import { registryNode } from '../../server/monitor/registry.ts'
import { replicationHealth } from '../../server/monitor/replication-health.ts'
import type { NodeRecord } from '../../server/monitor/node-store.ts'
import type { HealthReport, RegistryNode, RestWindow } from '../../server/wire/monitor-protocol.ts'
import type { NodeSpec, Rng } from './world.ts'

export interface SimParams {
  /** The replication factor every node assigns with (--replication-factor, 3). */
  k: number
  /** --min-replicas (3), the boxes' and the monitor's: under it, copies go to nodes outside a CID's place. */
  minReplicas: number
  days: number
  /** One replication pass per node and one registry read per tick. */
  tickSec: number
  /** --report-interval-sec (300). */
  reportSec: number
  /** The monitor's --node-timeout-sec (900). */
  nodeTimeoutSec: number
}

/** A node going down (power, link), coming back, or losing its disk for good (it never comes back). */
export interface SimEvent {
  at: number
  node: number
  kind: 'down' | 'up' | 'lost'
}

/** One way the network behaves over the run: the events it makes, from the nodes and the seeded RNG. */
export interface Scenario {
  id: string
  title: string
  days: number
  events(nodes: NodeSpec[], rng: Rng, params: SimParams): SimEvent[]
  /** What this scenario sets apart from the run's parameters (e.g. its --min-replicas). */
  params?: Partial<SimParams>
  /** The quiet hours a node announces in its report at simulated second t (called after events()): [start, end) seconds. */
  rest?(node: NodeSpec, t: number): Array<[number, number]>
}

interface NodeState {
  spec: NodeSpec
  up: boolean
  lost: boolean
  /** The replica list: CIDs whose pin started (real replica-list.ts semantics). */
  held: Set<string>
  /** Pinned in full: what the node reports holding. */
  complete: Set<string>
  /** Bytes still to fetch of pins under way (Helia keeps the blocks already fetched). */
  partial: Map<string, number>
  /** Released, but the blocks stay until the daily garbage collection (replicator.ts GC_SCHEDULE, 03:30 local). */
  cached: Set<string>
  /** What the agreed assignment gives it, in catalogue order. */
  mine: CatalogueEntry[]
  mineSet: Set<string>
  /**
   * Its last pass left nothing to do (no surplus waiting, no pin short of bytes or of a source) and
   * neither its share nor its state changed since: a pass now would do nothing, so it is skipped.
   */
  settled: boolean
  record: NodeRecord | null
  /** Simulated second of its latest report. */
  reportedAt: number
  confirmations: ReleaseConfirmations
}

/** A CID's time under a threshold, from when the monitor first counted it under to when it counted it back. */
export interface Episode {
  cid: string
  start: number
  end: number
  /** Still under when the run ended. */
  open: boolean
}

export interface TickSample {
  at: number
  live: number
  underK: number
  underMin: number
  /** CIDs with no copy on a live node. */
  withoutCopy: number
  /** CIDs with no copy on a present node, live or resting (what the storage nodes repair). */
  withoutPresentCopy: number
  /** Copies on live nodes per CID, on average. */
  meanCopies: number
}

export interface SimResult {
  /** Bytes and CIDs each node holds after the initial placement (all nodes up). */
  initialLoad: Array<{ spec: NodeSpec; bytes: number; cids: number }>
  fetchedBytes: number
  /** Fetched bytes per simulated day. */
  fetchedByDay: number[]
  releasedBytes: number
  /** Reassigned CIDs that came back from blocks not collected yet: no fetch. */
  reusedBytes: number
  underK: Episode[]
  underMin: Episode[]
  samples: TickSample[]
  /** Time spent in assign() per tick that the node set changed, in ms. */
  assignMs: number[]
  /** Bytes the nodes that lost their disks held when they did. */
  lostBytes: number
}

const T0 = Date.UTC(2030, 0, 7) // a Monday, 00:00 UTC
/** The monitor time of simulated second t, remembered for the tick: every node reports at the same t. */
const iso = ((): ((t: number) => string) => {
  let last = NaN
  let text = ''
  return t => {
    if (t !== last) [last, text] = [t, new Date(T0 + t * 1000).toISOString()]
    return text
  }
})()
const NO_CHALLENGES = { passed: 0, failed: 0, streaks: {}, failedCids: [], last: null }
const GC_MINUTE = 3 * 60 + 30

function baseReport(spec: NodeSpec): HealthReport {
  const zero = { totalBytes: 0, usedBytes: 0, freeBytes: 0 }
  return {
    deviceId: spec.id,
    seq: 0,
    timestamp: iso(0),
    version: 'sim',
    uptimeSec: 0,
    roles: ['storage'],
    apiUrl: `http://${spec.id}.sim:8080`,
    multiaddrs: [],
    system: {
      at: iso(0),
      cpu: { loadPercent: 0, load1: 0, cores: 4, temperatureC: null, throttled: null },
      memory: { ...zero, availableBytes: 0 },
      disk: zero,
      network: { rxBytes: 0, txBytes: 0 }
    },
    storage: { pinsHeld: 0, pinnedBytes: 0, quotaBytes: spec.quotaBytes, replicaBytes: 0 },
    replication: { enabled: true, held: [], assigned: 0, met: 0, missing: 0 },
    service: { peersConnected: 0, streamsServed: 0, chainSyncLag: null, errorsSinceLastReport: 0 }
  }
}

export class Simulation {
  readonly nodes: NodeState[]
  readonly sizes: Map<string, number>
  readonly cids: string[]
  /** The catalogue with each CID once, in order. */
  private readonly unique: CatalogueEntry[]
  private agreed: Assignment = new Map()
  private readonly indexById: Map<string, number>
  /** The nodes holding each CID in full (up or not): where a pin can fetch it from, when one is up. */
  private readonly holders = new Map<string, Set<NodeState>>()
  private assignedKey = ''
  private underK = new Map<string, number>()
  private underMin = new Map<string, number>()
  private readonly result: SimResult

  readonly catalogue: CatalogueEntry[]
  readonly params: SimParams
  private readonly assigner: Assigner

  private readonly rest: NonNullable<Scenario['rest']>

  constructor(catalogue: CatalogueEntry[], specs: NodeSpec[], params: SimParams, assigner: Assigner, rest: Scenario['rest'] = () => []) {
    this.rest = rest
    this.catalogue = catalogue
    this.params = params
    this.assigner = assigner
    this.sizes = new Map(catalogue.map(e => [e.cid, e.bytes]))
    this.cids = [...this.sizes.keys()]
    const seen = new Set<string>()
    this.unique = catalogue.filter(e => !seen.has(e.cid) && seen.add(e.cid))
    this.nodes = specs.map(spec => ({
      spec,
      up: true,
      lost: false,
      held: new Set(),
      complete: new Set(),
      partial: new Map(),
      cached: new Set(),
      mine: [],
      mineSet: new Set(),
      settled: false,
      record: null,
      reportedAt: -Infinity,
      confirmations: createReleaseConfirmations(params.k)
    }))
    this.indexById = new Map(specs.map(spec => [spec.id, spec.index]))
    this.result = {
      initialLoad: [],
      fetchedBytes: 0,
      fetchedByDay: [],
      releasedBytes: 0,
      reusedBytes: 0,
      underK: [],
      underMin: [],
      samples: [],
      assignMs: [],
      lostBytes: 0
    }
  }

  /** The starting point: every node up, reported, holding in full what the assignment over all of them gives it. */
  place(): void {
    for (const node of this.nodes) this.report(node, 0)
    this.assign(this.registry(0))
    for (const node of this.nodes) {
      for (const entry of node.mine) {
        node.held.add(entry.cid)
        this.completed(node, entry.cid)
      }
      node.settled = true
      this.result.initialLoad.push({ spec: node.spec, bytes: node.mine.reduce((sum, e) => sum + e.bytes, 0), cids: node.mine.length })
      this.report(node, 0)
    }
  }

  run(events: SimEvent[]): SimResult {
    const queue = events.toSorted((a, b) => a.at - b.at)
    const end = this.params.days * 86_400
    let next = 0
    for (let t = this.params.tickSec; t <= end; t += this.params.tickSec) {
      for (; next < queue.length && queue[next].at <= t; next++) this.apply(queue[next])
      this.tick(t)
    }
    for (const [episodes, open] of [
      [this.result.underK, this.underK],
      [this.result.underMin, this.underMin]
    ] as const)
      for (const [cid, start] of open) episodes.push({ cid, start, end, open: true })
    return this.result
  }

  private apply(event: SimEvent): void {
    const node = this.nodes[event.node]
    if (node.lost) return
    node.up = event.kind === 'up'
    node.settled = false
    if (event.kind === 'lost') {
      node.lost = true
      for (const cid of node.complete) {
        this.result.lostBytes += this.sizes.get(cid) ?? 0
        this.holders.get(cid)?.delete(node)
      }
      node.held.clear()
      node.complete.clear()
      node.partial.clear()
      node.cached.clear()
    }
  }

  private tick(t: number): void {
    for (const node of this.nodes) if (node.up && t - node.reportedAt >= this.params.reportSec) this.report(node, t)
    const registry = this.registry(t)
    this.observe(t, registry)
    this.assign(registry)
    const live = new Map(registry.filter(n => n.live).map(n => [n.deviceId, n]))
    const day = Math.floor((t - 1) / 86_400)
    while (this.result.fetchedByDay.length <= day) this.result.fetchedByDay.push(0)
    for (const node of this.nodes) {
      if (!node.up) continue
      this.collectGarbage(node, t)
      if (node.settled) continue
      const waiting = this.release(node, live)
      const [fetched, short] = this.pin(node)
      node.settled = !waiting && !short
      this.result.fetchedBytes += fetched
      this.result.fetchedByDay[day] += fetched
    }
  }

  /** The node's report as the monitor keeps it; every claim is taken as proven (challenges are not simulated). */
  private report(node: NodeState, t: number): void {
    const report = node.record?.report ?? baseReport(node.spec)
    const held = [...node.complete]
    const at = iso(t)
    const rest: RestWindow[] = this.rest(node.spec, t).map(([start, end]) => ({ reason: 'quiet-hours', start: iso(start), end: iso(end) }))
    node.reportedAt = t
    node.record = {
      deviceId: node.spec.id,
      report: {
        ...report,
        seq: report.seq + 1,
        timestamp: at,
        replication: { ...report.replication, held },
        ...(rest.length > 0 ? { rest } : {})
      },
      receivedAt: at,
      firstSeenAt: node.record?.firstSeenAt ?? at,
      verifiedApiUrl: report.apiUrl,
      verifiedHeld: held
    }
  }

  private registry(t: number): RegistryNode[] {
    const records = this.nodes.flatMap(node => (node.record === null ? [] : [node.record]))
    return records.map(record => registryNode(record, NO_CHALLENGES, this.params.nodeTimeoutSec * 1000, T0 + t * 1000))
  }

  /** The assignment every live node computes, from one live node's view (the same for all); recomputed when the registry's node set changes. */
  private assign(registry: RegistryNode[]): void {
    const self = registry.find(n => n.live)
    if (self === undefined) return
    const listed = otherStorageNodes(registry, self.deviceId)
    const nodes = assignableNodes(
      listed,
      registry,
      self.deviceId,
      registryPresence,
      listedSelfOf(registry, self.deviceId, registryPresence) ?? undefined
    )
    // what the margin reads changes the assignment too: presence and the copies held
    const key = nodes.map(n => `${n.deviceId}:${n.quotaBytes}:${n.failed.length}:${n.presence}:${n.held?.length}`).join(' ')
    if (key === this.assignedKey) return
    this.assignedKey = key
    const started = performance.now()
    this.agreed = this.assigner.assign(this.catalogue, nodes, this.params.k, this.params.minReplicas)
    this.result.assignMs.push(performance.now() - started)
    const mine = this.nodes.map((): CatalogueEntry[] => [])
    // the assignment lists CIDs in catalogue order, each once
    let at = 0
    for (const ids of this.agreed.values()) {
      const entry = this.unique[at++]
      for (const id of ids) mine[this.indexOf(id)].push(entry)
    }
    for (const node of this.nodes) {
      const entries = mine[node.spec.index]
      if (entries.length === node.mine.length && entries.every((entry, i) => entry === node.mine[i])) continue
      node.mine = entries
      node.mineSet = new Set(entries.map(e => e.cid))
      node.settled = false
    }
  }

  private indexOf(id: string): number {
    return this.indexById.get(id) as number
  }

  private completed(node: NodeState, cid: string): void {
    node.complete.add(cid)
    this.holders.set(cid, (this.holders.get(cid) ?? new Set()).add(node))
  }

  private hasSource(cid: string): boolean {
    for (const node of this.holders.get(cid) ?? []) if (node.up) return true
    return false
  }

  /** surplus-release.ts's decision: what is assigned elsewhere goes once its k holders confirm holding it. True while some wait. */
  private release(node: NodeState, live: Map<string, RegistryNode>): boolean {
    const surplus = new Set(surplusReplicas(this.agreed, node.mineSet, node.held, node.spec.id))
    let waiting = false
    for (const cid of node.held) {
      if (!surplus.has(cid)) {
        node.confirmations.forget(cid)
        continue
      }
      if (node.complete.has(cid)) {
        if (!node.confirmations.confirmed(cid, this.agreed.get(cid) as string[], live)) {
          waiting = true
          continue
        }
        node.complete.delete(cid)
        this.holders.get(cid)?.delete(node)
        node.cached.add(cid)
        this.result.releasedBytes += this.sizes.get(cid) ?? 0
      }
      node.partial.delete(cid)
      node.confirmations.forget(cid)
      node.held.delete(cid)
    }
    return waiting
  }

  /** replica-pins.ts's walk: this tick's bytes go to the candidates in order, one pin at a time. Returns the bytes fetched, and whether a pin fell short (of bytes or of a source). */
  private pin(node: NodeState): [number, boolean] {
    let budget = node.spec.rateBytesPerSec * this.params.tickSec
    let fetched = 0
    let short = false
    for (const { entry } of pinCandidates(node.mine, node.mineSet, node.held, new Set(), this.sizes, node.spec.quotaBytes)) {
      if (node.complete.has(entry.cid)) continue
      // pins run one after another: the rest wait for the next tick
      if (budget <= 0) return [fetched, true]
      node.held.add(entry.cid)
      if (node.cached.delete(entry.cid)) {
        this.completed(node, entry.cid)
        this.result.reusedBytes += entry.bytes
        continue
      }
      // no live node holds it: the pin stalls (pinStallMs) and the next pass tries again
      if (!this.hasSource(entry.cid)) {
        short = true
        continue
      }
      const left = node.partial.get(entry.cid) ?? entry.bytes
      const taken = Math.min(left, budget)
      budget -= taken
      fetched += taken
      if (taken === left) {
        node.partial.delete(entry.cid)
        this.completed(node, entry.cid)
      } else {
        node.partial.set(entry.cid, left - taken)
        short = true
      }
    }
    return [fetched, short]
  }

  private collectGarbage(node: NodeState, t: number): void {
    const local = (s: number): number => Math.floor(((s / 60 + node.spec.utcOffsetHours * 60) % 1440) + 1440) % 1440
    const before = local(t - this.params.tickSec)
    const now = local(t)
    const crossed = before <= now ? before < GC_MINUTE && now >= GC_MINUTE : before < GC_MINUTE || now >= GC_MINUTE
    if (!crossed) return
    node.cached.clear()
    for (const cid of node.partial.keys()) if (!node.held.has(cid)) node.partial.delete(cid)
  }

  /** The monitor's count (replicationHealth) of copies on live nodes, and each CID's time under k and under the minimum. */
  private observe(t: number, registry: RegistryNode[]): void {
    const { k, minReplicas } = this.params
    const health = replicationHealth(registry, Math.max(k, minReplicas), this.cids, Infinity)
    const underK = new Set(health.lowest.filter(l => l.copies < k).map(l => l.cid))
    const underMin = new Set(health.lowest.filter(l => l.copies < minReplicas).map(l => l.cid))
    this.track(t, underK, this.underK, this.result.underK)
    this.track(t, underMin, this.underMin, this.result.underMin)
    const live = registry.filter(n => n.live)
    this.result.samples.push({
      at: t,
      live: live.length,
      underK: underK.size,
      underMin: underMin.size,
      // on a live node: replicationHealth's withoutCopy counts resting copies too
      withoutCopy: health.lowest.filter(l => l.copies === 0).length,
      withoutPresentCopy: health.withoutCopy,
      meanCopies: live.reduce((sum, n) => sum + n.held.length, 0) / this.cids.length
    })
  }

  private track(t: number, now: Set<string>, open: Map<string, number>, episodes: Episode[]): void {
    for (const [cid, start] of open) {
      if (now.has(cid)) continue
      episodes.push({ cid, start, end: t, open: false })
      open.delete(cid)
    }
    for (const cid of now) if (!open.has(cid)) open.set(cid, t)
  }
}

/** One scenario from the initial placement: its events drawn with `rng`, the run as long as the scenario says. */
export function runScenario(
  world: { catalogue: CatalogueEntry[]; nodes: NodeSpec[] },
  scenario: Scenario,
  params: Omit<SimParams, 'days'>,
  assigner: Assigner,
  rng: Rng
): SimResult {
  const full = { ...params, ...scenario.params, days: scenario.days }
  const sim = new Simulation(world.catalogue, world.nodes, full, assigner, scenario.rest?.bind(scenario))
  const events = scenario.events(world.nodes, rng, full)
  sim.place()
  return sim.run(events)
}
