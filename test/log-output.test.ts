// Logs a person and a machine can both read (issue 17): pino-pretty only on a terminal that is not
// systemd's, a repeated warning said once and then summarised, publish progress in whole lines when
// piped, and a routine client error (404) logged without a stack trace.
import t from 'tap'
import Fastify from 'fastify'
import { answerErrorsByCode } from '../server/http/error-handler.ts'
import { SeedError } from '../server/lib/errors.ts'
import { RequestLogController } from '../server/lib/request-log.ts'
import { readByAPerson } from '../server/lib/log-output.ts'
import { repeatedWarning } from '../server/lib/repeated-warning.ts'
import { progressLines } from '../server/publish/progress-lines.ts'

t.test('pretty lines only for a terminal that systemd did not give', async t => {
  t.equal(readByAPerson({ isTTY: true }, {}), true)
  t.equal(readByAPerson({ isTTY: true }, { JOURNAL_STREAM: '8:12345' }), false, 'under systemd: JSON for the journal')
  t.equal(readByAPerson({ isTTY: false }, {}), false, 'a pipe: JSON')
  t.equal(readByAPerson({}, {}), false)
})

t.test('a warning repeated every 10 s is logged once, then once per period with the count', async t => {
  let clock = 0
  const lines: Array<{ fields: Record<string, unknown>; message: string }> = []
  const warning = repeatedWarning(
    { warn: (fields, message) => lines.push({ fields: fields as Record<string, unknown>, message }) },
    'catalogue sync failed; retrying',
    5 * 60_000,
    () => clock
  )
  // the 10 minutes: a failure every 10 s, 60 of them
  for (let n = 0; n < 60; n++, clock += 10_000) warning.warn({ err: 'no block' })
  t.equal(lines.length, 2, `2 lines for 60 failures, not 60: ${lines.map(l => l.message).join(' | ')}`)
  t.strictSame(lines[0], { fields: { err: 'no block' }, message: 'catalogue sync failed; retrying' })
  t.equal(lines[1].message, 'catalogue sync failed; retrying (30 times since the last line)')
  t.equal(lines[1].fields.repeated, 30)
  clock += 5 * 60_000
  warning.warn({ err: 'again' })
  t.strictSame(
    lines.at(-1),
    { fields: { err: 'again' }, message: 'catalogue sync failed; retrying' },
    'after a quiet period: a first failure again'
  )
})

t.test('publish progress piped: whole lines, one per step and quarter, never a \\r', async t => {
  let written = ''
  const progress = progressLines({ isTTY: false, write: text => (written += text) })
  for (const fraction of [0, 0.01, 0.3, 0.31, 0.6, 0.9, 1]) progress('seal', fraction)
  progress('add', 0)
  progress('add', 1)
  t.notMatch(written, /\r/)
  t.strictSame(written.trimEnd().split('\n'), [
    'seal         0%',
    'seal        25%',
    'seal        50%',
    'seal        75%',
    'seal       100%',
    'add          0%',
    'add        100%'
  ])
  let onTerminal = ''
  const inPlace = progressLines({ isTTY: true, write: text => (onTerminal += text) })
  inPlace('probe', 0)
  inPlace('probe', 1)
  t.equal(onTerminal, '\rprobe        0%\rprobe      100%\n', 'a terminal: rewritten in place')
})

t.test('a routine 404 is logged at debug without a stack trace; a 500 keeps its stack', async t => {
  const lines: Array<Record<string, unknown>> = []
  const app = Fastify({
    logger: { level: 'debug', stream: { write: (line: string) => lines.push(JSON.parse(line) as Record<string, unknown>) } },
    logController: new RequestLogController()
  })
  t.teardown(() => app.close())
  answerErrorsByCode(app)
  app.get('/block', async () => {
    throw new SeedError('SEED_BLOCK_NOT_FOUND', 'block bafy… is not held here')
  })
  app.get('/broken', async () => {
    throw new Error('the disk went away')
  })
  const notHere = await app.inject({ method: 'GET', url: '/block' })
  t.equal(notHere.statusCode, 404)
  t.equal(notHere.json().code, 'SEED_BLOCK_NOT_FOUND', 'the answer is unchanged')
  const line = lines.find(l => l.msg === 'block bafy… is not held here')
  t.match(line, { level: 20, statusCode: 404, code: 'SEED_BLOCK_NOT_FOUND' }, 'at debug, with its code')
  t.notMatch(JSON.stringify(lines), /"stack"/, 'no stack trace anywhere for it')
  await app.inject({ method: 'GET', url: '/broken' })
  t.match(
    lines.find(l => l.msg === 'the disk went away'),
    { level: 50, err: { stack: /the disk went away/ } },
    'a server error keeps it'
  )
})
