// The scenarios bench/network-sim.ts runs, in order. To add one: append a Scenario whose events()
// draws its downs, ups and losses from the nodes and the seeded RNG (times in simulated seconds
// from the start, when every node is up and holds its initial placement).
import type { Scenario, SimEvent } from './engine.ts'
import { exponential, type NodeSpec, type Rng } from './world.ts'

const HOUR = 3600
const DAY = 86_400

/** Down intervals merged per node, as down/up events (an up past the end is left out). */
function downtime(intervals: Map<number, Array<[number, number]>>, end: number): SimEvent[] {
  const events: SimEvent[] = []
  for (const [node, spans] of intervals) {
    const sorted = spans.toSorted((a, b) => a[0] - b[0])
    let current: [number, number] | undefined
    const flush = (): void => {
      if (current === undefined) return
      events.push({ at: current[0], node, kind: 'down' })
      if (current[1] < end) events.push({ at: current[1], node, kind: 'up' })
    }
    for (const span of sorted) {
      if (current !== undefined && span[0] <= current[1]) current[1] = Math.max(current[1], span[1])
      else {
        flush()
        current = [...span]
      }
    }
    flush()
  }
  return events
}

const add = (intervals: Map<number, Array<[number, number]>>, node: number, from: number, to: number): void => {
  intervals.set(node, [...(intervals.get(node) ?? []), [from, to]])
}

/** A fifth of the home boxes are switched off every night: from about 23:00 local, for 6 to 9 hours. */
function nightly(nodes: NodeSpec[], rng: Rng, days: number, intervals: Map<number, Array<[number, number]>>): void {
  for (const node of nodes) {
    if (node.kind !== 'box' || rng() >= 0.2) continue
    const start = 23 + (rng() * 2 - 1)
    const length = 6 + rng() * 3
    for (let day = -1; day < days; day++) {
      const from = day * DAY + (start - node.utcOffsetHours) * HOUR
      if (from + length * HOUR > 0 && from < days * DAY) add(intervals, node.index, Math.max(0, from), from + length * HOUR)
    }
  }
}

/** Outages at random: a box about once a week for an hour on average (a reboot, the ISP), a rack once a month for half an hour. */
function outages(nodes: NodeSpec[], rng: Rng, days: number, intervals: Map<number, Array<[number, number]>>): void {
  for (const node of nodes) {
    const [every, mean] = node.kind === 'box' ? [7 * DAY, HOUR] : [30 * DAY, HOUR / 2]
    for (let at = exponential(rng, every); at < days * DAY; at += exponential(rng, every))
      add(intervals, node.index, at, at + exponential(rng, mean))
  }
}

/**
 * A fifth of the boxes off every night and nothing else, for two days: silently, as today (min = k:
 * every node away is repaired past the timeout), or announced as quiet hours with a margin of min 2
 * under k 3 (issue 15: the monitor lists them resting, and nothing is fetched while 2 copies are present).
 */
function nightlyRest(announced: boolean): Scenario {
  let nights = new Map<number, Array<[number, number]>>()
  return {
    id: announced ? 'nightly-announced' : 'nightly-silent',
    title: announced
      ? 'a fifth of the boxes off every night, announced as quiet hours; --min-replicas 2 of k 3'
      : 'a fifth of the boxes off every night, unannounced (as before issue 15); --min-replicas = k',
    days: 2,
    ...(announced ? { params: { minReplicas: 2 } } : {}),
    events(nodes, rng, params) {
      nights = new Map()
      nightly(nodes, rng, params.days, nights)
      return downtime(nights, params.days * DAY)
    },
    // the night under way or next, as a box announces its quiet hours (rest-windows.ts)
    rest: (node, t) => (announced ? (nights.get(node.index) ?? []).filter(([from, to]) => to > t && from < t + DAY).slice(0, 1) : [])
  }
}

export const SCENARIOS: Scenario[] = [
  {
    id: 'node-loss',
    title: 'one box (1 TiB quota) loses its disk for good after an hour; nothing else happens',
    days: 1,
    events(nodes, rng) {
      const boxes = nodes.filter(n => n.quotaClass === 'box 1 TiB')
      const lost = boxes[Math.floor(rng() * boxes.length)]
      return [{ at: HOUR, node: lost.index, kind: 'lost' }]
    }
  },
  {
    id: 'week-churn',
    title: 'a week: a fifth of the boxes off every night, random outages, 0.5% of the disks lost for good',
    days: 7,
    events(nodes, rng, params) {
      const end = params.days * DAY
      const intervals = new Map<number, Array<[number, number]>>()
      nightly(nodes, rng, params.days, intervals)
      outages(nodes, rng, params.days, intervals)
      const lost: SimEvent[] = nodes
        .filter(() => rng() < 0.005)
        .map(n => ({ at: 6 * HOUR + rng() * (end - 6 * HOUR), node: n.index, kind: 'lost' }))
      return [...downtime(intervals, end), ...lost]
    }
  },
  nightlyRest(false),
  nightlyRest(true)
]
