import { fileURLToPath } from 'node:url'
import type { FastifyInstance, FastifyReply } from 'fastify'
import fastifyStatic from '@fastify/static'
import { renderPage, sendPage } from '../ui/page.ts'
import { vendorRoutes } from '../ui/routes.ts'

/** The fleet dashboard's source folder (plain ES modules, no build step). */
const dashboardRoot = fileURLToPath(new URL('../../ui/monitor/', import.meta.url))
/** The TV UI's folder: the dashboard shares its polling hook, its byte format and its theme. */
const uiRoot = fileURLToPath(new URL('../../ui/', import.meta.url))
const sharedFiles = new Set(['/polling.js', '/format.js', '/theme.css'])

const dashboardPage = renderPage({
  title: 'Seed One fleet',
  stylesheets: ['/shared/theme.css', '/styles.css'],
  script: '/app.js',
  root: 'main',
  noscript: 'The fleet dashboard needs JavaScript.'
})

/** Dashboard files revalidate on every load: they change with each release under the same name. */
const revalidate = {
  cacheControl: false,
  setHeaders: (reply: FastifyReply) => {
    reply.header('cache-control', 'no-cache')
  }
}

/** The fleet dashboard at '/', the TV UI files it shares under '/shared/', and the vendored modules and fonts. */
export async function dashboardRoutes(app: FastifyInstance): Promise<void> {
  await app.register(fastifyStatic, { root: dashboardRoot, prefix: '/', ...revalidate })
  await app.register(fastifyStatic, {
    root: uiRoot,
    prefix: '/shared/',
    decorateReply: false,
    index: false,
    allowedPath: pathName => sharedFiles.has(pathName),
    ...revalidate
  })
  app.get('/', async (_request, reply) => sendPage(reply, dashboardPage))
  await vendorRoutes(app)
}
