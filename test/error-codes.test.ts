// Every error code is listed once in server/lib/errors.ts and answered with one status at the edge
// (server/http/error-handler.ts); an app with the edge handler answers a coded error with both.
import t from 'tap'
import Fastify from 'fastify'
import { ERROR_CODES, SeedError } from '../server/lib/errors.ts'
import { STATUS_OF_CODE, answerErrorsByCode } from '../server/http/error-handler.ts'

t.test('every code is listed once, named alike, and has an error status at the edge', async t => {
  const repeated = ERROR_CODES.filter((code, i) => ERROR_CODES.indexOf(code) !== i)
  t.same(repeated, [], 'no code is listed twice')
  for (const code of ERROR_CODES) t.match(code, /^SEED_[A-Z]+(_[A-Z]+)*$/, `${code} is named like the others`)
  t.same(Object.keys(STATUS_OF_CODE).sort(), [...ERROR_CODES].sort(), 'the edge maps exactly the listed codes')
  for (const [code, status] of Object.entries(STATUS_OF_CODE)) t.ok(status >= 400 && status <= 599, `${code}: ${status} is an error status`)
})

t.test("a coded error is answered with its code and its code's status; Fastify's own errors keep theirs", async t => {
  const app = Fastify({ logger: false })
  answerErrorsByCode(app)
  app.get('/film', async () => {
    throw new SeedError('SEED_FILM_NOT_FOUND', 'film 7 is not in this library')
  })
  app.post('/strict', { schema: { body: { type: 'object', required: ['n'] } } }, async () => 'ok')
  t.teardown(() => app.close())

  const film = await app.inject({ method: 'GET', url: '/film' })
  t.equal(film.statusCode, 404)
  t.same(film.json(), { statusCode: 404, code: 'SEED_FILM_NOT_FOUND', error: 'Not Found', message: 'film 7 is not in this library' })
  const invalid = await app.inject({ method: 'POST', url: '/strict', payload: {} })
  t.equal(invalid.statusCode, 400)
  t.equal(invalid.json().code, 'FST_ERR_VALIDATION')
})
