import { setFlagsFromString } from 'node:v8'
import { runInNewContext } from 'node:vm'

/**
 * Counts the memory of Buffers (ArrayBuffers outside V8's heap) toward V8's overall heap limit,
 * instead of against a fixed 64 MB allowance whose every use starts a full collection. A film stream
 * makes a Buffer for each 64 KiB chunk it deciphers (Node's Decipher cannot write into a buffer of
 * ours), so the daemon ran a full mark-compact of its whole heap for every ~64 MB it served: reading a
 * film took 2.2 CPU s/GB with them, 0.65 without, and bench/stream.ts went from 0.49 to 0.92 of
 * @fastify/static's throughput. Counted this way, those Buffers, dead while young, go with the cheap
 * young-generation collections; the price is more of them held between collections under load
 * (16 streams: 390 → 560 MB resident, bench/memory.ts). V8's heap heuristics read the flag as they
 * run, so setting it once the process runs works; NODE_OPTIONS refuses it.
 */
export function countBuffersInHeapLimit(): void {
  setFlagsFromString('--external-memory-accounted-in-global-limit')
}

let fullCollection: ((options?: object) => void) | undefined

/**
 * A full garbage collection, now. Once the last film stream ends nothing allocates, so V8 runs no
 * collection, and the Buffers the streams left behind (~60 MB after 16) stay allocated until one runs:
 * a collection 5 s after the streams ended took the box from 214 to 172 MB, where without it the box
 * still held ~230 MB a minute later (bench/memory.ts, docs/benchmarks.md). Node hands gc() out only
 * behind --expose-gc; set at run time the flag reaches new contexts only, so one made here hands it
 * over and the process's global scope stays without it. `reduceMemory`: V8's last-resort flavour,
 * rounds of full collections that compact the heap and give its emptied pages back, as V8's memory
 * reducer does only once it finds the process idle.
 */
export function collectGarbage(opts: { reduceMemory?: boolean } = {}): void {
  if (fullCollection === undefined) {
    setFlagsFromString('--expose-gc')
    fullCollection = runInNewContext('gc') as (options?: object) => void
  }
  // no argument at all for a plain one: gc(undefined) is taken as a young-generation collection
  if (opts.reduceMemory === true) fullCollection({ type: 'major', execution: 'sync', flavor: 'last-resort' })
  else fullCollection()
}
