// The collections the daemon asks V8 for (server/lib/gc-tuning.ts): a full one after the last film
// stream, and a memory-reducing one once a started daemon has settled (server/cli.ts).
import t from 'tap'
import { PerformanceObserver, constants } from 'node:perf_hooks'
import { collectGarbage } from '../server/lib/gc-tuning.ts'
import { waitFor } from './helpers/wait-for.ts'

type Collection = { kind: number; flags: number }

/** The collections `run` makes, as V8 reports them. */
async function collections(run: () => void): Promise<Collection[]> {
  const seen: Collection[] = []
  const observer = new PerformanceObserver(list => {
    for (const entry of list.getEntries()) seen.push((entry as PerformanceEntry & { detail: Collection }).detail)
  })
  observer.observe({ entryTypes: ['gc'] })
  try {
    run()
    return await waitFor('the collections reported', async () => seen.length > 0 && seen)
  } finally {
    observer.disconnect()
  }
}

const full = (all: Collection[]): Collection[] => all.filter(c => c.kind === constants.NODE_PERFORMANCE_GC_MAJOR)

t.test('a plain collection is one forced full one; reduceMemory runs rounds of them until nothing more frees', async t => {
  const plain = full(await collections(() => collectGarbage()))
  t.equal(plain.length, 1, 'one full collection')
  t.ok((plain[0].flags & constants.NODE_PERFORMANCE_GC_FLAGS_FORCED) !== 0, 'forced')
  const reducing = full(await collections(() => collectGarbage({ reduceMemory: true })))
  t.ok(reducing.length >= 2, `V8's last-resort rounds: ${reducing.length} full collections`)
  t.equal((globalThis as { gc?: unknown }).gc, undefined, 'gc() stays out of the global scope')
})
