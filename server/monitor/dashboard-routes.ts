import type { FastifyInstance } from 'fastify'
import fastifyStatic from '@fastify/static'
import { renderPage, sendPage } from '../ui/page.ts'
import { builtPages, fontRoutes } from '../ui/routes.ts'
import { MONITOR_PAGES_DIR } from '../ui/ui-sources.ts'

const dashboardPage = renderPage({
  title: 'Seed One fleet',
  stylesheets: ['/theme.css', '/styles.css'],
  script: '/app.js',
  root: 'main',
  noscript: 'The fleet dashboard needs JavaScript.'
})

/** The fleet dashboard at '/', its built script and stylesheets, and the font. */
export async function dashboardRoutes(app: FastifyInstance): Promise<void> {
  await app.register(fastifyStatic, builtPages(MONITOR_PAGES_DIR))
  app.get('/', async (_request, reply) => sendPage(reply, dashboardPage))
  await fontRoutes(app)
}
