import t from 'tap'
import { startTestDevnet } from './helpers/devnet.ts'
import { ROUTE_DESCRIPTIONS } from '../server/openapi/route-descriptions.ts'
import { getJson } from './helpers/http.ts'
import { daemonConfig, startTestDaemon, testDir } from './helpers/in-process.ts'

const devnet = await startTestDevnet(t)

t.test('the OpenAPI description is generated from the route schemas of the running box', async t => {
  const box = await startTestDaemon(t, daemonConfig(devnet, testDir(t, 'box'), ['player', 'custodian']))
  const doc = await getJson(`${box.url}/api/openapi.json`)
  t.match(doc.openapi, /^3\.1\./)
  t.equal(doc.info.title, 'Seed One')

  const pairing = doc.paths['/api/pairing']?.post?.requestBody?.content?.['application/json']?.schema
  t.same(pairing?.required, ['message', 'signature'], 'a body schema appears as the request body')
  t.equal(pairing?.additionalProperties, false)
  const message = doc.paths['/api/pairing/message']?.get?.parameters ?? []
  t.same(message.map((p: { name: string; in: string }) => `${p.in}:${p.name}`).sort(), ['query:address', 'query:code'])
  t.ok(doc.paths['/api/films/{tokenId}/stream']?.get, 'path parameters in OpenAPI form')
  t.ok(doc.paths['/api/custody/film-keys']?.post, 'the custodian role adds its routes')
  t.notOk(doc.paths['/api/openapi.json'], 'the description does not describe itself')
})

t.test('a process without the player role describes only what it serves', async t => {
  const custodian = await startTestDaemon(t, daemonConfig(devnet, testDir(t, 'custodian'), ['custodian']))
  const doc = await getJson(`${custodian.url}/api/openapi.json`)
  t.notOk(doc.paths['/api/library'])
  t.ok(doc.paths['/api/status'])
})

t.test('every route of a box with every role has a summary and a description (issue 17)', async t => {
  const box = await startTestDaemon(t, daemonConfig(devnet, testDir(t, 'all-roles'), ['player', 'custodian', 'storage']))
  const doc = await getJson(`${box.url}/api/openapi.json`)
  const operations = Object.entries(doc.paths as Record<string, Record<string, { summary?: string; description?: string }>>).flatMap(
    ([url, methods]) => Object.entries(methods).map(([method, operation]) => ({ route: `${method.toUpperCase()} ${url}`, ...operation }))
  )
  t.ok(operations.length >= 40, `the routes were read (${operations.length})`)
  t.strictSame(
    operations.filter(o => !(o.summary ?? '').trim()).map(o => o.route),
    [],
    'every route has a summary'
  )
  t.strictSame(
    operations.filter(o => !(o.description ?? '').trim()).map(o => o.route),
    [],
    'every route has a description'
  )
  const routes = new Set(operations.map(o => o.route.replace(/\{(\w+)\}/g, ':$1')))
  t.strictSame(
    Object.keys(ROUTE_DESCRIPTIONS).filter(route => !routes.has(route)),
    [],
    'every description names a route the box serves'
  )
})
