// Rendezvous assignment as pure functions: deterministic, k distinct nodes, capacity-aware, and a
// node joining or leaving moves only its own share. And when a surplus copy may be released.
import t from 'tap'
import { createHash } from 'node:crypto'
import {
  assign,
  assignedTo,
  createAssigner,
  rankNodes,
  type AssignableEntry,
  type AssignableNode,
  type Presence
} from '../server/replication/assignment.ts'
import { createReleaseConfirmations } from '../server/replication/release-confirmation.ts'
import type { RegistryNode } from '../server/wire/monitor-protocol.ts'

const cidOf = (i: number): string => `bafk${createHash('sha256').update(String(i)).digest('hex').slice(0, 40)}`
const entries = (n: number, bytes = 100): AssignableEntry[] => Array.from({ length: n }, (_, i) => ({ cid: cidOf(i), bytes }))
const node = (id: string, quotaBytes = Number.MAX_SAFE_INTEGER, failed: string[] = []): AssignableNode => ({
  deviceId: id,
  quotaBytes,
  failed
})
const nodes = (n: number): AssignableNode[] => Array.from({ length: n }, (_, i) => node(`node-${i}`))

/** The CIDs for which `check` does not hold: each property is asserted once over the whole catalogue. */
const failing = (catalogue: AssignableEntry[], check: (cid: string) => boolean): string[] =>
  catalogue.filter(({ cid }) => !check(cid)).map(({ cid }) => cid)

t.test('deterministic, independent of the order nodes are listed in, k distinct nodes per CID', async t => {
  const catalogue = entries(200)
  const ids = nodes(8).map(n => n.deviceId)
  const a = assign(catalogue, nodes(8), 3)
  t.same([...a], [...assign(catalogue, nodes(8).reverse(), 3)], 'the same assignment whatever the order')
  t.same(
    failing(catalogue, cid => new Set(a.get(cid)).size === 3),
    [],
    'three distinct holders each'
  )
  t.same(
    failing(catalogue, cid => JSON.stringify(a.get(cid)) === JSON.stringify(rankNodes(cid, ids).slice(0, 3))),
    [],
    'the first three in rank'
  )
})

t.test('the share spreads evenly', async t => {
  const assignment = assign(entries(1200), nodes(10), 3)
  for (const { deviceId } of nodes(10)) {
    const share = assignedTo(assignment, deviceId).length
    t.ok(share > 250 && share < 470, `${deviceId} holds ${share} of 3600 copies over 10 nodes (360 each on average)`)
  }
})

t.test('the mixed weights spread load like independent uniform draws (chi-square over 100 nodes)', async t => {
  const catalogue = entries(20_000)
  const shares = new Map(nodes(100).map(n => [n.deviceId, 0]))
  for (const holders of assign(catalogue, nodes(100), 3).values()) for (const id of holders) shares.set(id, (shares.get(id) as number) + 1)
  const expected = (20_000 * 3) / 100
  const chiSquare = [...shares.values()].reduce((sum, n) => sum + (n - expected) ** 2 / expected, 0)
  // 99 degrees of freedom: mean 99, standard deviation 14; a weight that favours some ids lands far above
  t.ok(chiSquare < 99 + 5 * 14, `chi-square ${chiSquare.toFixed(1)} for 99 degrees of freedom`)
  const counts = [...shares.values()]
  t.ok(Math.max(...counts) / expected < 1.25, `the fullest node holds ${Math.max(...counts)} copies where the mean is ${expected}`)
})

t.test('with more nodes than the ranks kept per CID, the holders are still the first k in rank', async t => {
  const catalogue = entries(300)
  const all = nodes(100)
  const ids = all.map(n => n.deviceId)
  const a = assign(catalogue, all, 3)
  t.same(
    failing(catalogue, cid => JSON.stringify(a.get(cid)) === JSON.stringify(rankNodes(cid, ids).slice(0, 3))),
    [],
    'the first three of a full sort by weight'
  )
})

t.test('an assigner kept across calls gives what a fresh assignment gives, as nodes join, leave, fill and fail', async t => {
  const catalogue = entries(400, 100)
  const all = nodes(60)
  const assigner = createAssigner()
  const views: AssignableNode[][] = [
    all.slice(0, 40),
    all.slice(0, 50),
    all.slice(10, 60),
    all.slice(10, 60).map(n => (n.deviceId === 'node-20' ? node('node-20', 250) : n)),
    all
      .slice(0, 3)
      .concat(all.slice(55))
      .map(n => node(n.deviceId, 10_000, [catalogue[0].cid, catalogue[1].cid])),
    all
  ]
  for (const [i, view] of views.entries()) {
    const fresh = assign(catalogue, view, 3)
    t.same([...assigner.assign(catalogue, view, 3)], [...fresh], `view ${i} (${view.length} nodes)`)
  }
  t.same([...assigner.assign(catalogue.slice(100), all, 3)], [...assign(catalogue.slice(100), all, 3)], 'a shorter catalogue')
})

t.test('a node leaving moves only its own share, each CID to the next node in rank', async t => {
  const catalogue = entries(300)
  const ids = nodes(6).map(n => n.deviceId)
  const leaving = 'node-2'
  const before = assign(catalogue, nodes(6), 3)
  const after = assign(
    catalogue,
    nodes(6).filter(n => n.deviceId !== leaving),
    3
  )
  const was = (cid: string): string[] => before.get(cid) as string[]
  const now = (cid: string): string[] => after.get(cid) as string[]
  const share = catalogue.filter(({ cid }) => was(cid).includes(leaving))
  const rest = catalogue.filter(({ cid }) => !was(cid).includes(leaving))
  t.same(
    failing(rest, cid => JSON.stringify(now(cid)) === JSON.stringify(was(cid))),
    [],
    `the ${rest.length} CIDs it did not hold did not move`
  )
  t.same(
    failing(share, cid => {
      const kept = was(cid).filter(id => id !== leaving)
      const added = now(cid).filter(id => !kept.includes(id))
      const next = rankNodes(cid, ids).filter(id => id !== leaving)[2]
      return kept.every(id => now(cid).includes(id)) && added.length === 1 && added[0] === next
    }),
    [],
    `each of its ${share.length} CIDs kept its other holders and went to the next node in rank`
  )
  t.ok(share.length > 100, `its share was ${share.length} of 300`)
})

t.test('a node joining takes only its own share, each time from the lowest-ranked holder', async t => {
  const catalogue = entries(300)
  const before = assign(catalogue, nodes(5), 3)
  const after = assign(catalogue, nodes(6), 3)
  const joining = 'node-5'
  const was = (cid: string): string[] => before.get(cid) as string[]
  const now = (cid: string): string[] => after.get(cid) as string[]
  const taken = catalogue.filter(({ cid }) => now(cid).includes(joining))
  const rest = catalogue.filter(({ cid }) => !now(cid).includes(joining))
  t.same(
    failing(rest, cid => JSON.stringify(now(cid)) === JSON.stringify(was(cid))),
    [],
    `the ${rest.length} CIDs it does not take did not move`
  )
  t.same(
    failing(taken, cid => JSON.stringify(was(cid).filter(id => !now(cid).includes(id))) === JSON.stringify([was(cid)[2]])),
    [],
    `each of the ${taken.length} it takes comes from its lowest-ranked holder`
  )
  t.ok(taken.length > 100 && taken.length < 260, `the new node takes about a sixth of the 900 copies: ${taken.length}`)
})

t.test('a CID that does not fit a node goes to the next node in rank; the factor still holds', async t => {
  const catalogue = entries(60, 100)
  const all = nodes(5)
  const ids = all.map(n => n.deviceId)
  const smallId = 'node-1'
  const unlimited = assign(catalogue, all, 3)
  // room for 4 copies where the unlimited assignment gives it about 36
  const limited = assign(
    catalogue,
    all.map(n => (n.deviceId === smallId ? node(smallId, 450) : n)),
    3
  )
  t.equal(assignedTo(limited, smallId).length, 4, 'the small node takes what fits, in catalogue order')
  t.same(assignedTo(limited, smallId), assignedTo(unlimited, smallId).slice(0, 4))
  t.same(
    failing(catalogue, cid => {
      const holders = limited.get(cid) as string[]
      const expected = rankNodes(cid, ids)
        .filter(id => id !== smallId || holders.includes(smallId))
        .slice(0, 3)
      return JSON.stringify(holders) === JSON.stringify(expected)
    }),
    [],
    'every CID still has 3 holders: the next in rank stands in for the small node'
  )
})

t.test('a node that failed a CID is passed over for it; a node set smaller than k gives what it has', async t => {
  const catalogue = entries(10)
  const cid = catalogue[0].cid
  const first = (assign(catalogue, nodes(4), 3).get(cid) as string[])[0]
  const withFailure = assign(
    catalogue,
    nodes(4).map(n => (n.deviceId === first ? node(first, Number.MAX_SAFE_INTEGER, [cid]) : n)),
    3
  )
  t.notOk(withFailure.get(cid)?.includes(first), 'the failing node does not hold it')
  t.equal(withFailure.get(cid)?.length, 3)
  t.same(assign(catalogue, nodes(2), 3).get(cid)?.length, 2, 'two nodes cannot make three copies')
  t.same(assign(catalogue, [], 3).get(cid), [])
  t.throws(() => assign(catalogue, [node('a'), node('a')], 3), /listed twice/)
  t.throws(() => assign(catalogue, nodes(3), 0), RangeError)
})

t.test('a CID listed twice (two films sharing content) is placed once', async t => {
  const [one] = entries(1, 100)
  const assignment = assign([one, one], [node('a', 150), node('b', 150), node('c', 150)], 3)
  t.equal(assignment.size, 1)
  t.equal(assignment.get(one.cid)?.length, 3, 'its room was taken once')
})

t.test('a surplus copy is released only once every assigned node reported holding it after the release was considered', async t => {
  const cid = cidOf(1)
  const at = (second: number): string => new Date(Date.UTC(2030, 0, 1, 0, 0, second)).toISOString()
  const listed = (id: string, reportedAt: number, held: string[]): RegistryNode => ({
    deviceId: id,
    apiUrl: `http://${id}`,
    multiaddrs: [],
    roles: ['storage'],
    lastReportAt: at(reportedAt),
    live: true,
    replicating: true,
    quotaBytes: 1e12,
    replicaBytes: 0,
    held,
    failed: [],
    score: 1
  })
  const registry = (nodes: RegistryNode[]): Map<string, RegistryNode> => new Map(nodes.map(n => [n.deviceId, n]))
  const confirmations = createReleaseConfirmations(3)
  const holders = ['a', 'b', 'c']

  // all three claim it, but those reports may predate their own release of it
  t.notOk(confirmations.confirmed(cid, holders, registry([listed('a', 1, [cid]), listed('b', 1, [cid]), listed('c', 1, [cid])])))
  t.notOk(
    confirmations.confirmed(cid, holders, registry([listed('a', 2, [cid]), listed('b', 2, [cid]), listed('c', 1, [cid])])),
    'c has not reported since'
  )
  t.notOk(
    confirmations.confirmed(cid, holders, registry([listed('a', 2, [cid]), listed('b', 2, [cid]), listed('c', 3, [])])),
    'c’s newer report says it let go'
  )
  t.ok(confirmations.confirmed(cid, holders, registry([listed('a', 2, [cid]), listed('b', 2, [cid]), listed('c', 4, [cid])])), 'confirmed')

  t.notOk(
    confirmations.confirmed(cid, ['a', 'b', 'd'], registry([listed('a', 5, [cid]), listed('b', 5, [cid]), listed('d', 5, [cid])])),
    'other holders: the wait starts again'
  )
  t.notOk(confirmations.confirmed(cid, ['a', 'b'], registry([listed('a', 9, [cid]), listed('b', 9, [cid])])), 'fewer than k: never')

  // the registry given is the live nodes' (node-set others()): a resting holder sends no newer report
  const withResting = ['a', 'b', 'r']
  t.notOk(confirmations.confirmed(cid, withResting, registry([listed('a', 10, [cid]), listed('b', 10, [cid])])))
  t.notOk(
    confirmations.confirmed(cid, withResting, registry([listed('a', 11, [cid]), listed('b', 11, [cid])])),
    'a holder resting: nothing is released below k until it is back and confirms'
  )
  t.ok(confirmations.confirmed(cid, withResting, registry([listed('a', 11, [cid]), listed('b', 11, [cid]), listed('r', 12, [cid])])))
})

// Repair with a margin (issue 15): target 3, minimum 2, over six nodes that each hold what the plain
// assignment gives them (the steady state).
const margin = { target: 3, min: 2 }
const steady = (catalogue: AssignableEntry[]): AssignableNode[] => {
  const plain = assign(catalogue, nodes(6), margin.target)
  return nodes(6).map(n => ({ ...n, held: assignedTo(plain, n.deviceId) }))
}
const withPresence = (all: AssignableNode[], presence: Record<string, 'resting' | 'gone'>): AssignableNode[] =>
  all.map(n => (presence[n.deviceId] === undefined ? n : { ...n, presence: presence[n.deviceId] }))
/** The holders each CID gains: assigned nodes that do not hold it (each one is a fetch). */
const fetches = (catalogue: AssignableEntry[], all: AssignableNode[], assignment: Map<string, string[]>): string[] =>
  catalogue.flatMap(({ cid }) =>
    (assignment.get(cid) as string[]).filter(id => !all.find(n => n.deviceId === id)?.held?.includes(cid)).map(id => `${id} ${cid}`)
  )

t.test('margin: a copy made while a node was away stays while it is away, and goes when it is back', async t => {
  const catalogue = entries(60)
  const all = steady(catalogue)
  const ids = all.map(n => n.deviceId)
  const share = catalogue.filter(({ cid }) => all.find(n => n.deviceId === 'node-2')?.held?.includes(cid))
  // a repair gave each of node-2's CIDs to the next node in rank after its three
  const stand = (cid: string): string => rankNodes(cid, ids)[3]
  const withRepairs = (presence: Presence): AssignableNode[] =>
    all.map(n => ({
      ...n,
      presence: n.deviceId === 'node-2' ? presence : 'live',
      held: [...(n.held ?? []), ...share.filter(({ cid }) => stand(cid) === n.deviceId).map(e => e.cid)]
    }))
  const away = assign(catalogue, withRepairs('gone'), margin.target, margin.min)
  t.same(
    failing(share, cid => away.get(cid)?.includes(stand(cid)) === true && !away.get(cid)?.includes('node-2')),
    [],
    'while node-2 is gone, each of its CIDs stays on the node that stood in'
  )
  t.same(fetches(catalogue, withRepairs('gone'), away), [], 'and nothing is fetched')
  const back = assign(catalogue, withRepairs('live'), margin.target, margin.min)
  t.same([...back], [...assign(catalogue, all, margin.target)], 'node-2 back: the plain assignment again, the stand-ins surplus')
})

t.test('margin: a resting node keeps its copies and its place; nothing is fetched', async t => {
  const catalogue = entries(60)
  const all = steady(catalogue)
  const before = assign(catalogue, all, margin.target, margin.min)
  const resting = withPresence(all, { 'node-2': 'resting' })
  const after = assign(catalogue, resting, margin.target, margin.min)
  t.same([...after], [...before], 'the same assignment: its CIDs stay assigned to it')
  t.same(fetches(catalogue, resting, after), [])
})

t.test('margin: a node gone leaves its CIDs at min ≤ copies < target: nothing is fetched', async t => {
  const catalogue = entries(60)
  const gone = withPresence(steady(catalogue), { 'node-2': 'gone' })
  const after = assign(catalogue, gone, margin.target, margin.min)
  const share = catalogue.filter(({ cid }) => gone.find(n => n.deviceId === 'node-2')?.held?.includes(cid))
  t.ok(share.length > 15, `it held ${share.length} of 60`)
  t.same(fetches(catalogue, gone, after), [], 'no node fetches')
  t.same(
    failing(share, cid => after.get(cid)?.length === 2 && !after.get(cid)?.includes('node-2')),
    [],
    'each of its CIDs stays on its two present holders'
  )
})

t.test('margin: copies under min are repaired on live nodes up to the target; resting copies count, gone ones do not', async t => {
  const catalogue = entries(60)
  const all = steady(catalogue)
  const ids = all.map(n => n.deviceId)
  const heldBy = (cid: string): string[] => all.filter(n => n.held?.includes(cid)).map(n => n.deviceId)
  const both = catalogue.filter(({ cid }) => heldBy(cid).includes('node-1') && heldBy(cid).includes('node-2'))
  t.ok(both.length > 3, `${both.length} CIDs are held by both node-1 and node-2`)

  const twoGone = withPresence(all, { 'node-1': 'gone', 'node-2': 'gone' })
  const repaired = assign(catalogue, twoGone, margin.target, margin.min)
  t.same(
    failing(both, cid => {
      const holders = repaired.get(cid) as string[]
      const [left] = heldBy(cid).filter(id => id !== 'node-1' && id !== 'node-2')
      const next = rankNodes(cid, ids).filter(id => !heldBy(cid).includes(id))
      return JSON.stringify([...holders].sort()) === JSON.stringify([left, ...next.slice(0, 2)].sort())
    }),
    [],
    'each CID under min keeps its last holder and gains the next two live nodes in rank'
  )
  const oneResting = withPresence(all, { 'node-1': 'resting', 'node-2': 'gone' })
  t.same(
    fetches(catalogue, oneResting, assign(catalogue, oneResting, margin.target, margin.min)),
    [],
    'with node-1 resting instead of gone, they have two present copies: nothing is fetched'
  )
  const restingNodeFetches = fetches(catalogue, twoGone, repaired).filter(f => f.startsWith('node-1 ') || f.startsWith('node-2 '))
  t.same(restingNodeFetches, [], 'nothing is given to a node that is away')
})

t.test('margin: the same result whatever the order nodes are listed in; min must be 1..target', async t => {
  const catalogue = entries(60)
  const all = withPresence(steady(catalogue), { 'node-1': 'resting', 'node-4': 'gone' })
  t.same([...assign(catalogue, [...all].reverse(), 3, 2)], [...assign(catalogue, all, 3, 2)])
  t.throws(() => assign(catalogue, all, 3, 4), RangeError)
  t.throws(() => assign(catalogue, all, 3, 0), RangeError)
})
