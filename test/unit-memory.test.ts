// The daemon's unit runs Node with the memory settings measured in docs/benchmarks.md (issue 14), in a
// form Node accepts: NODE_OPTIONS refuses some V8 flags (e.g. --optimize-for-size) and then Node does
// not start at all. The unit's text only; the service itself is test/systemd.test.ts's (an appliance test).
import t from 'tap'
import { execFile } from 'node:child_process'
import { readFile } from 'node:fs/promises'
import { promisify } from 'node:util'

const unit = await readFile(new URL('../systemd/seed-one.service', import.meta.url), 'utf8')
/** The unit's Environment= assignments, quoted or not. */
const environment = Object.fromEntries(
  [...unit.matchAll(/^Environment=(?:"([^"]*)"|(\S+))$/gm)].map(([, quoted, bare]) => {
    const [name, ...value] = (quoted ?? bare).split('=')
    return [name, value.join('=')]
  })
)

t.test('the unit sets the measured V8 and glibc settings', async t => {
  t.match(environment.NODE_OPTIONS, /(^| )--max-semi-space-size=1( |$)/)
  t.match(environment.NODE_OPTIONS, /(^| )--max-old-space-size=128( |$)/)
  t.equal(environment.MALLOC_ARENA_MAX, '2')
  t.equal(environment.MALLOC_MMAP_THRESHOLD_, '131072')
  t.match(unit, /^# Sized for the 1 GB board/m, 'the unit says which board its settings are sized for')
})

t.test('Node starts with them and its heap limit follows', async t => {
  const { stdout } = await promisify(execFile)(
    process.execPath,
    ['-e', 'console.log(require("node:v8").getHeapStatistics().heap_size_limit)'],
    { env: { ...process.env, NODE_OPTIONS: environment.NODE_OPTIONS, MALLOC_ARENA_MAX: environment.MALLOC_ARENA_MAX } }
  )
  const limit = Number(stdout)
  t.ok(limit > 128e6 && limit < 160e6, `heap limit ${limit} bytes: 128 MiB of old space and the young generation`)
})
