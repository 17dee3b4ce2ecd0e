import fp from 'fastify-plugin'
import Fastify, { type FastifyInstance, type RouteOptions } from 'fastify'
import { VERSION } from '../lib/version.ts'
import { ROUTE_DESCRIPTIONS } from './route-descriptions.ts'

/**
 * The description of `routes`, made by @fastify/swagger on an app of its own that they are declared
 * on again (handlers, validators and serializers left out: only their schemas matter). Swagger and
 * its YAML writer, ~1.1 MB of heap, are loaded here, at the first request for the description, not
 * in every box when it starts (issue 14, docs/benchmarks.md).
 */
async function describe(routes: RouteOptions[]): Promise<unknown> {
  const { default: fastifySwagger } = await import('@fastify/swagger')
  const describer = Fastify({ exposeHeadRoutes: false })
  try {
    describer.setValidatorCompiler(() => () => true)
    describer.setSerializerCompiler(() => JSON.stringify)
    await describer.register(fastifySwagger, {
      openapi: {
        openapi: '3.1.0',
        info: { title: 'Seed One', version: VERSION, description: 'The HTTP API of a Seed One box, storage node or custodian.' }
      },
      hideUntagged: false
    })
    for (const { method, url, schema, config, constraints } of routes) {
      // a GET and HEAD route (a film's stream) shares the GET's words
      const words = ROUTE_DESCRIPTIONS[`${Array.isArray(method) ? method[0] : method} ${url}`]
      describer.route({ method, url, schema: { ...schema, ...words }, config, constraints, handler: async () => null })
    }
    await describer.ready()
    return describer.swagger()
  } finally {
    await describer.close()
  }
}

/**
 * The OpenAPI description of this process's HTTP API, generated from the route schemas (DESIGN
 * decision 9) at GET /api/openapi.json. Registered before any route, so it sees them all.
 */
export const openApi = fp(
  async (app: FastifyInstance) => {
    const routes: RouteOptions[] = []
    // HEAD routes are Fastify's own copies of the GET ones, which swagger leaves out too
    app.addHook('onRoute', route => {
      if (route.method !== 'HEAD') routes.push(route)
    })
    let description: Promise<unknown> | undefined
    const described = async (): Promise<unknown> =>
      await describe(routes).catch((err: unknown) => {
        description = undefined // the next request tries again
        throw err
      })
    app.get('/api/openapi.json', { schema: { hide: true } }, async () => await (description ??= described()))
  },
  { name: 'openapi' }
)
