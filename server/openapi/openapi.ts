import fp from 'fastify-plugin'
import fastifySwagger from '@fastify/swagger'
import type { FastifyInstance } from 'fastify'
import { VERSION } from '../lib/version.ts'

/**
 * The OpenAPI description of this process's HTTP API, generated from the route schemas (DESIGN
 * decision 9) at GET /api/openapi.json. Registered before any route, so it sees them all.
 */
export const openApi = fp(
  async (app: FastifyInstance) => {
    await app.register(fastifySwagger, {
      openapi: {
        openapi: '3.1.0',
        info: { title: 'Seed One', version: VERSION, description: 'The HTTP API of a Seed One box, storage node or custodian.' }
      },
      hideUntagged: false
    })
    app.get('/api/openapi.json', { schema: { hide: true } }, async () => app.swagger())
  },
  { name: 'openapi' }
)
