// The network simulation at a small scale (200 nodes, 2 000 CIDs, a simulated day): through the real
// assignment, node-set, pin, release and health code, a placement fills every CID to k within the
// quotas, a lost disk's CIDs are fetched again, and a node away for less than the monitor's timeout
// moves nothing.
import t from 'tap'
import { createAssigner } from '../server/replication/assignment.ts'
import { runScenario, type Scenario, type SimEvent, type SimParams } from '../bench/network-sim/engine.ts'
import { makeCatalogue, makeNodes, seededRng } from '../bench/network-sim/world.ts'
import { SCENARIOS } from '../bench/network-sim/scenarios.ts'

const rng = seededRng(7)
const world = { catalogue: makeCatalogue(2000, rng), nodes: makeNodes(200, rng) }
const params: Omit<SimParams, 'days'> = { k: 3, minReplicas: 3, tickSec: 300, reportSec: 300, nodeTimeoutSec: 900 }
const assigner = createAssigner()
const scenario = (id: string, events: (nodes: typeof world.nodes) => SimEvent[]): Scenario => ({ id, title: id, days: 1, events })
const run = (s: Scenario): ReturnType<typeof runScenario> => runScenario(world, s, params, assigner, seededRng(8))

t.test('the placement gives every CID k copies within every quota, spread evenly', async t => {
  const { initialLoad, fetchedBytes, underK } = run(scenario('steady', () => []))
  t.equal(
    initialLoad.reduce((sum, l) => sum + l.cids, 0),
    params.k * world.catalogue.length,
    'k holders for each CID'
  )
  t.same(
    initialLoad.filter(l => l.bytes > l.spec.quotaBytes).map(l => l.spec.id),
    [],
    'no node over its quota'
  )
  const mean = (params.k * world.catalogue.length) / world.nodes.length
  const max = Math.max(...initialLoad.map(l => l.cids))
  t.ok(max / mean < 2, `the busiest node holds ${max} CIDs where the mean is ${mean}`)
  t.equal(fetchedBytes, 0, 'a network where nothing happens fetches nothing')
  t.same(underK, [], 'and no CID dips under k')
})

t.test("a lost disk's CIDs are fetched again by the next nodes in rank", async t => {
  const lost = world.nodes.find(n => n.quotaClass === 'box 1 TiB') as (typeof world.nodes)[number]
  const result = run(scenario('loss', () => [{ at: 3600, node: lost.index, kind: 'lost' }]))
  t.ok(result.lostBytes > 0, 'the node held replicas')
  t.ok(result.fetchedBytes >= result.lostBytes, `fetched ${result.fetchedBytes} bytes for ${result.lostBytes} lost`)
  t.ok(result.underK.length > 0, 'its CIDs dipped under k')
  t.same(
    result.underK.filter(e => e.open),
    [],
    'and every one is back at k by the end of the day'
  )
  t.equal(Math.max(...result.samples.map(s => s.withoutCopy)), 0, 'no CID was ever without a copy')
  t.equal(result.samples.at(-1)?.underK, 0)
})

t.test('a node away for less than the node timeout causes no repair', async t => {
  const away = world.nodes[0].index
  const result = run(
    scenario('blip', () => [
      { at: 3600, node: away, kind: 'down' },
      { at: 3600 + 600, node: away, kind: 'up' }
    ])
  )
  t.equal(result.fetchedBytes, 0, 'nothing fetched')
  t.same(result.underK, [], 'no CID counted under k')
})

t.test('the scenarios the benchmark runs make events inside their days', async t => {
  for (const s of SCENARIOS) {
    const events = s.events(world.nodes, seededRng(1), { ...params, days: s.days })
    t.ok(events.length > 0, `${s.id}: ${events.length} events`)
    t.same(
      events.filter(e => e.at < 0 || e.at > s.days * 86_400 || world.nodes[e.node] === undefined),
      [],
      `${s.id}: all within the run and on known nodes`
    )
  }
})

t.test('nightly quiet hours: announced, with a margin, nothing is fetched; silent, the nights are repaired', async t => {
  const nightly = (id: string): Scenario => SCENARIOS.find(s => s.id === id) as Scenario
  const silent = run(nightly('nightly-silent'))
  const announced = run(nightly('nightly-announced'))
  t.ok(silent.fetchedBytes > 0, `silent nights: ${silent.fetchedBytes} bytes fetched`)
  t.equal(announced.fetchedBytes, 0, 'announced nights: nothing fetched')
  t.equal(Math.max(...announced.samples.map(s => s.withoutPresentCopy)), 0, 'and no CID without a present copy')
})
