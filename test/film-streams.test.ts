// The film responses a box follows, and what it does once the last one has closed: a full garbage
// collection, so that the Buffers of the streams go back to the system (docs/benchmarks.md, memory).
import t from 'tap'
import { EventEmitter } from 'node:events'
import type { ServerResponse } from 'node:http'
import { setTimeout as sleep } from 'node:timers/promises'
import { createFilmStreams } from '../server/library/film-streams.ts'
import { collectGarbage } from '../server/lib/gc-tuning.ts'

/** What follow() uses of a response: `closed` and its close event. */
function response(): ServerResponse & { close(): void } {
  const res = Object.assign(new EventEmitter(), { closed: false })
  return Object.assign(res, {
    close() {
      res.closed = true
      res.emit('close')
    }
  }) as unknown as ServerResponse & { close(): void }
}

t.test('the box collects its garbage once after the last film response closes, not while one is open', async t => {
  let collections = 0
  const streams = createFilmStreams({ whenIdle: () => collections++, idleMs: 20 })
  const first = response()
  const second = response()
  streams.follow('1', first)
  streams.follow('2', second)
  first.close()
  await sleep(60)
  t.equal(collections, 0, 'film 2 still plays')
  second.close()
  await sleep(60)
  t.equal(collections, 1, 'collected once the last closed')
  const third = response()
  streams.follow('1', third)
  third.close()
  streams.follow('1', response()) // a new range before the wait is over: the box is busy again
  await sleep(60)
  t.equal(collections, 1, 'a response opened within the wait cancels it')
})

t.test('collectGarbage runs a full collection without putting gc() in the global scope', async t => {
  const registry = new FinalizationRegistry<string>(() => {})
  let ref: WeakRef<object> | undefined
  ;(() => {
    const garbage = { bytes: new Array(1000).fill(1) }
    ref = new WeakRef(garbage)
    registry.register(garbage, 'garbage')
  })()
  await sleep(0) // a WeakRef keeps its target alive until the job that made it ends
  collectGarbage()
  t.equal(ref?.deref(), undefined, 'an object no one holds is gone')
  t.equal((globalThis as { gc?: unknown }).gc, undefined)
})
