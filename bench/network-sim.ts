// `npm run bench:sim` (node bench/network-sim.ts [--write-docs] [--nodes N] [--cids N] [--seed N]):
// the storage network at the scale of a real one, through the real assignment, node-set, pin,
// release and replication-health code in simulated time (bench/network-sim/engine.ts). First the
// assignment's speed, the SHA-256 weights of commit 1821c2f against the mixed ones, side by side in
// this run; then the placement and each scenario of bench/network-sim/scenarios.ts. --write-docs
// replaces the network-sim sections of docs/benchmarks.md.
import { execFileSync } from 'node:child_process'
import { mkdtempSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { parseArgs } from 'node:util'
import { createAssigner, type AssignableNode, type AssignableEntry, type Assigner } from '../server/replication/assignment.ts'
import { report, type BenchResult, type Row } from './report.ts'
import { runScenario, type SimParams } from './network-sim/engine.ts'
import { SCENARIOS } from './network-sim/scenarios.ts'
import { makeCatalogue, makeNodes, seededRng } from './network-sim/world.ts'
import { dailyRows, placementRows, scenarioRows } from './network-sim/figures.ts'

const { values: args } = parseArgs({
  options: {
    'write-docs': { type: 'boolean', default: false },
    nodes: { type: 'string', default: '10000' },
    cids: { type: 'string', default: '100000' },
    seed: { type: 'string', default: '1' },
    scenarios: { type: 'string', default: SCENARIOS.map(s => s.id).join(',') }
  }
})
const NODES = Number(args.nodes)
const CIDS = Number(args.cids)
const SEED = Number(args.seed)
const PARAMS: Omit<SimParams, 'days'> = { k: 3, minReplicas: 3, tickSec: 300, reportSec: 300, nodeTimeoutSec: 900 }
/** The assignment before the mixed weights: the baseline of the speed ratio. */
const BASELINE_COMMIT = '1821c2f'
const FULL_SCALE = NODES === 10_000 && CIDS === 100_000
const COMMAND = `npm run bench:sim -- --write-docs${FULL_SCALE ? '' : ` --nodes ${NODES} --cids ${CIDS}`} --scenarios ${args.scenarios}`
/** Sections of docs/benchmarks.md: a run at another scale writes its own, beside the full-scale ones. */
const sectionId = (name: string): string => `network-sim-${name}${FULL_SCALE ? '' : `-${NODES}x${CIDS}`}`

type AssignFn = (entries: AssignableEntry[], nodes: AssignableNode[], k: number) => Map<string, string[]>

async function baselineAssign(): Promise<AssignFn> {
  const source = execFileSync('git', ['show', `${BASELINE_COMMIT}:server/replication/assignment.ts`], { cwd: import.meta.dirname })
  const file = join(mkdtempSync(join(tmpdir(), 'seed-one-sim-')), 'assignment-sha256.ts')
  writeFileSync(file, source)
  return ((await import(file)) as { assign: AssignFn }).assign
}

const timed = <T>(run: () => T): [T, number] => {
  const started = performance.now()
  const value = run()
  return [value, performance.now() - started]
}

/** Old and new weights on the same 5 × 10^5 pairs, then the kept assigner at full scale: a fresh ranking, a node joining, one leaving. */
async function assignmentSpeed(world: ReturnType<typeof makeWorld>, assigner: Assigner): Promise<BenchResult> {
  const nodes: AssignableNode[] = world.nodes.map(n => ({ deviceId: n.id, quotaBytes: n.quotaBytes, failed: [] }))
  const sample = world.catalogue.slice(0, 250)
  const small = nodes.slice(0, 2000)
  const old = await baselineAssign()
  // each once on a tenth of the pairs first, so that neither is timed while V8 still compiles it
  old(sample.slice(0, 25), small, PARAMS.k)
  createAssigner().assign(sample.slice(0, 25), small, PARAMS.k)
  const [, oldMs] = timed(() => old(sample, small, PARAMS.k))
  const [, newMs] = timed(() => createAssigner().assign(sample, small, PARAMS.k))
  const pairs = sample.length * small.length
  const full = world.catalogue.length * nodes.length
  const [, fullMs] = timed(() => assigner.assign(world.catalogue, nodes.slice(1), PARAMS.k))
  const [, joinMs] = timed(() => assigner.assign(world.catalogue, nodes, PARAMS.k))
  const [, leaveMs] = timed(() => assigner.assign(world.catalogue, nodes.slice(2), PARAMS.k))
  const [, sameMs] = timed(() => assigner.assign(world.catalogue, nodes.slice(2), PARAMS.k))
  const per = (ms: number, n: number): string => ((ms * 1e6) / n).toFixed(1)
  const rows: Record<string, Row> = {
    [`SHA-256 per pair (${BASELINE_COMMIT})`]: {
      pairs,
      ms: oldMs.toFixed(0),
      'ns per weight': per(oldMs, pairs),
      'full scale, extrapolated s': (((oldMs / pairs) * full) / 1000).toFixed(0)
    },
    'mixed digests, fresh assigner': {
      pairs,
      ms: newMs.toFixed(0),
      'ns per weight': per(newMs, pairs),
      'full scale, extrapolated s': (((newMs / pairs) * full) / 1000).toFixed(1)
    },
    'full scale, first ranking': { pairs: full, ms: fullMs.toFixed(0), 'ns per weight': per(fullMs, full) },
    'full scale, a node joins': { pairs: world.catalogue.length, ms: joinMs.toFixed(0) },
    'full scale, a node leaves': { ms: leaveMs.toFixed(0) },
    'full scale, nothing changed': { ms: sameMs.toFixed(0) }
  }
  const speedup = oldMs / newMs
  return {
    id: sectionId('assign'),
    title: `Network simulation: assignment time, ${CIDS} CIDs × ${NODES} nodes, k=${PARAMS.k}`,
    command: COMMAND,
    goal: 'a full assignment within one 5-minute replication pass on every node (was about two hours of SHA-256)',
    met: fullMs < 300_000,
    rows,
    notes: [
      `mixed weights ${speedup.toFixed(0)}× faster per weight than SHA-256 per pair, measured side by side in this run on the same ${pairs} pairs`,
      'a node keeps its assigner between passes (replicator.ts): after the first ranking a pass costs the "nothing changed" or "joins" line'
    ]
  }
}

function makeWorld(): { catalogue: ReturnType<typeof makeCatalogue>; nodes: ReturnType<typeof makeNodes> } {
  const rng = seededRng(SEED)
  return { catalogue: makeCatalogue(CIDS, rng), nodes: makeNodes(NODES, rng) }
}

const world = makeWorld()
const assigner = createAssigner()
const sections: BenchResult[] = [await assignmentSpeed(world, assigner)]
const setup = `${NODES} nodes, ${CIDS} CIDs (${world.catalogue.length / 2} films), k=${PARAMS.k}, monitor min ${PARAMS.minReplicas}, node timeout ${PARAMS.nodeTimeoutSec} s, reports every ${PARAMS.reportSec} s, one pass per ${PARAMS.tickSec} s tick, seed ${SEED}`
for (const scenario of SCENARIOS.filter(s => args.scenarios.split(',').includes(s.id))) {
  const started = performance.now()
  const result = runScenario(world, scenario, PARAMS, assigner, seededRng(SEED + 1))
  console.log(`${scenario.id}: simulated ${scenario.days} days in ${((performance.now() - started) / 1000).toFixed(0)} s`)
  if (sections.length === 1)
    sections.push({
      id: sectionId('placement'),
      title: `Network simulation: placement balance, ${NODES} nodes, ${CIDS} CIDs (all nodes up)`,
      command: COMMAND,
      goal: 'every CID placed k times, no node over its quota, loads spread as by independent draws',
      met: null,
      rows: placementRows(result),
      notes: [
        setup,
        'rendezvous hashing spreads CIDs evenly by count whatever the quota: a node fills only when its quota is smaller than its share'
      ]
    })
  // a section per scenario, so that a run of some scenarios leaves the others' sections in place
  sections.push({
    id: sectionId(`scenario-${scenario.id}`),
    title: `Network simulation: ${scenario.id}, repair traffic and time under k, ${NODES} nodes, ${CIDS} CIDs`,
    command: COMMAND,
    goal: `${scenario.title}; every CID back to k after a loss, dips short and rare`,
    met: null,
    rows: scenarioRows(scenario.id, result, PARAMS.k, scenario.params?.minReplicas ?? PARAMS.minReplicas),
    notes: [setup]
  })
  if (scenario.days > 1)
    sections.push({
      id: sectionId(`scenario-${scenario.id}-days`),
      title: `Network simulation: ${scenario.id} day by day, ${NODES} nodes, ${CIDS} CIDs`,
      command: COMMAND,
      goal: scenario.title,
      met: null,
      rows: dailyRows(result)
    })
}
for (const section of sections) {
  if (args['write-docs']) await report(section)
  else console.log(section.title, section.rows)
}
