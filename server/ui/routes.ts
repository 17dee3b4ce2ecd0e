import { dirname } from 'node:path'
import { fileURLToPath } from 'node:url'
import type { FastifyInstance, FastifyReply } from 'fastify'
import fastifyStatic from '@fastify/static'
import { renderPage, sendPage } from './page.ts'
import { BOX_PAGES_DIR } from './ui-sources.ts'

/** The Inter font from node_modules, its CSS and woff2 files only. */
const interFolder = dirname(fileURLToPath(import.meta.resolve('@fontsource/inter')))
const interFiles = (pathName: string): boolean => /^\/[\w-]+\.css$/.test(pathName) || /^\/files\/[\w-]+\.woff2$/.test(pathName)

const tvPage = renderPage({
  title: 'Seed One',
  stylesheets: ['/theme.css', '/styles.css'],
  script: '/app.js',
  noscript: 'Seed One needs JavaScript to show your library.'
})
const pairPage = renderPage({
  title: 'Pair Seed One',
  stylesheets: ['/theme.css', '/pair.css'],
  script: '/pair.js',
  noscript: 'Pairing needs JavaScript.'
})

/** A folder of built pages' files at '/', revalidated on every load: they change with each release under the same name. */
export function builtPages(root: string) {
  return {
    root,
    prefix: '/',
    cacheControl: false,
    setHeaders: (reply: FastifyReply) => {
      reply.header('cache-control', 'no-cache')
    }
  }
}

/**
 * Serves the TV UI at '/', the pairing page a phone opens from the TV's QR code at '/pair', their built
 * scripts and stylesheets, and the font under '/vendor/inter/'.
 */
export async function uiRoutes(app: FastifyInstance): Promise<void> {
  await app.register(fastifyStatic, builtPages(BOX_PAGES_DIR))
  // The page reads the code itself; the schema only keeps the address tidy.
  app.get(
    '/pair',
    { schema: { querystring: { type: 'object', additionalProperties: false, properties: { code: { type: 'string', maxLength: 32 } } } } },
    async (_request, reply) => sendPage(reply, pairPage)
  )
  app.get('/', async (_request, reply) => sendPage(reply, tvPage))
  await fontRoutes(app)
}

/** The Inter font under '/vendor/inter/', cached for a year (the TV UI's and the monitor's). */
export async function fontRoutes(app: FastifyInstance): Promise<void> {
  await app.register(fastifyStatic, {
    root: interFolder,
    prefix: '/vendor/inter/',
    decorateReply: false,
    index: false,
    maxAge: '365d',
    immutable: true,
    allowedPath: interFiles
  })
}
