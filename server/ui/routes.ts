import { dirname } from 'node:path'
import { fileURLToPath } from 'node:url'
import type { FastifyInstance } from 'fastify'
import fastifyStatic from '@fastify/static'
import { renderPage, sendPage } from './page.ts'

/** The TV UI source folder (plain ES modules, no build step). */
const uiRoot = fileURLToPath(new URL('../../ui/', import.meta.url))

/** The folder holding the file a module specifier resolves to, found like Node finds it, from any cwd. */
function packageFolderOf(specifier: string): string {
  return dirname(fileURLToPath(import.meta.resolve(specifier)))
}

/**
 * Browser modules and fonts from node_modules, each served from its own package subfolder only.
 * `allowedPath` narrows a folder further to the files the UI needs.
 */
const vendorFolders: { prefix: string; root: string; allowedPath?: (pathName: string) => boolean }[] = [
  { prefix: '/vendor/preact/', root: packageFolderOf('preact') },
  { prefix: '/vendor/preact-hooks/', root: packageFolderOf('preact/hooks') },
  { prefix: '/vendor/htm/', root: packageFolderOf('htm') },
  { prefix: '/vendor/htm-preact/', root: packageFolderOf('htm/preact'), allowedPath: p => p.endsWith('.mjs') },
  {
    prefix: '/vendor/inter/',
    root: packageFolderOf('@fontsource/inter'),
    allowedPath: p => /^\/[\w-]+\.css$/.test(p) || /^\/files\/[\w-]+\.woff2$/.test(p)
  }
]

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

/**
 * Serves the TV UI at '/', the pairing page a phone opens from the TV's QR code at '/pair', and their
 * vendored browser modules and fonts under '/vendor/'. UI files revalidate on every load (they change
 * with each firmware update under the same name).
 */
export async function uiRoutes(app: FastifyInstance): Promise<void> {
  await app.register(fastifyStatic, {
    root: uiRoot,
    prefix: '/',
    cacheControl: false,
    setHeaders: reply => {
      reply.header('cache-control', 'no-cache')
    }
  })
  // The page reads the code itself; the schema only keeps the address tidy.
  app.get(
    '/pair',
    { schema: { querystring: { type: 'object', additionalProperties: false, properties: { code: { type: 'string', maxLength: 32 } } } } },
    async (_request, reply) => sendPage(reply, pairPage)
  )
  app.get('/', async (_request, reply) => sendPage(reply, tvPage))
  await vendorRoutes(app)
}

/** The vendored browser modules and fonts under '/vendor/', cached for a year (the TV UI's and the monitor's). */
export async function vendorRoutes(app: FastifyInstance): Promise<void> {
  for (const folder of vendorFolders) {
    await app.register(fastifyStatic, {
      root: folder.root,
      prefix: folder.prefix,
      decorateReply: false,
      index: false,
      maxAge: '365d',
      immutable: true,
      ...(folder.allowedPath ? { allowedPath: folder.allowedPath } : {})
    })
  }
}
