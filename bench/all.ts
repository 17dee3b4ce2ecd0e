// `npm run bench`: every benchmark in turn, each in a process of its own (so one's heap, page cache
// warm-up and open sockets do not colour the next), each writing its section of docs/benchmarks.md.
import { spawnSync } from 'node:child_process'
import { fileURLToPath } from 'node:url'

const BENCHMARKS = [
  'sealing.ts',
  'stream.ts',
  'stream-latency.ts',
  'stream-cpu.ts',
  'memory.ts',
  'publish.ts',
  // not publish-hdr.ts: half an hour of 4K encoding, run alone (its header says when)
  'replication.ts',
  'challenge-fetch.ts',
  'library-sync.ts',
  'tv-engines.ts',
  'cold-start.ts',
  'monitor-scale.ts'
]

const failed: string[] = []
for (const script of BENCHMARKS) {
  console.log(`\n=== bench/${script}`)
  const run = spawnSync(process.execPath, [fileURLToPath(new URL(script, import.meta.url))], { stdio: 'inherit' })
  if (run.status !== 0) failed.push(`${script} (${run.signal ?? `exit ${run.status}`})`)
}
if (failed.length > 0) {
  console.error(`\nbenchmarks that failed: ${failed.join(', ')}`)
  process.exitCode = 1
}
