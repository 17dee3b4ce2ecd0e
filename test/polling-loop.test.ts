import t from 'tap'
import { createPollingLoop } from '../server/chain/polling-loop.ts'

t.test(
  'waits double after each failure up to the cap, back to the interval after a success; a throwing onError does not stop it',
  async t => {
    // The delays the loop asks for are recorded; each wait itself is cut to 0 ms so the test does not depend on timing.
    const realSetTimeout = globalThis.setTimeout
    const delays: number[] = []
    t.capture(globalThis, 'setTimeout', ((fn: () => void, ms: number) => {
      delays.push(ms)
      return realSetTimeout(fn, 0)
    }) as typeof setTimeout)

    const outcomes = ['fail', 'fail', 'fail', 'ok', 'fail', 'ok']
    const errors: string[] = []
    let runs = 0
    const { promise: lastRun, resolve } = Promise.withResolvers<void>()
    const loop = createPollingLoop({
      intervalMs: 100,
      maxBackoffMs: 500,
      async run() {
        const outcome = outcomes[runs++]
        if (runs === outcomes.length) resolve()
        if (outcome === 'fail') throw new Error(`run ${runs} failed`)
        return runs
      },
      onError(err) {
        errors.push((err as Error).message)
        throw new Error('the handler fails too')
      }
    })
    loop.start()
    await lastRun
    await loop.close()

    t.same(delays, [0, 200, 400, 500, 100, 200], 'first run at once, then 2x, 4x, capped, interval, 2x')
    t.same(errors, ['run 1 failed', 'run 2 failed', 'run 3 failed', 'run 5 failed'])
    t.equal(runs, outcomes.length, 'no run after stop')
  }
)

t.test('runs never overlap, and stop waits for the run in flight', async t => {
  let active = 0
  let most = 0
  const finished: number[] = []
  const release: (() => void)[] = []
  let runs = 0
  const loop = createPollingLoop({
    intervalMs: 60_000,
    maxBackoffMs: 60_000,
    async run() {
      const n = ++runs
      most = Math.max(most, ++active)
      await new Promise<void>(done => release.push(done))
      active--
      finished.push(n)
      return n
    }
  })
  const first = loop.runOnce()
  const second = loop.runOnce()
  await Promise.resolve()
  t.equal(release.length, 1, 'the second run waits for the first')
  release.shift()!()
  t.equal(await first, 1)
  while (release.length === 0) await new Promise(done => setImmediate(done))
  let stopped = false
  const stopping = loop.close().then(() => (stopped = true))
  await new Promise(done => setImmediate(done))
  t.notOk(stopped, 'stop waits for the run in flight')
  release.shift()!()
  t.equal(await second, 2)
  await stopping
  t.same(finished, [1, 2])
  t.equal(most, 1, 'never two runs at once')
})
