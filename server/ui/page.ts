// The HTML shell of every page Seed One serves (the TV UI, the phone's pairing page, the fleet
// dashboard), written once so their import map and fonts cannot drift apart.
import { createHash } from 'node:crypto'
import type { FastifyReply } from 'fastify'

/** Bare specifiers the browser modules import, mapped to the vendored files under '/vendor/'. */
const IMPORT_MAP = {
  imports: {
    preact: '/vendor/preact/preact.mjs',
    'preact/hooks': '/vendor/preact-hooks/hooks.mjs',
    htm: '/vendor/htm/htm.mjs',
    'htm/preact': '/vendor/htm-preact/index.mjs'
  }
}
const IMPORT_MAP_SCRIPT = JSON.stringify(IMPORT_MAP)
/** The pages' only inline script, allowed by its hash in the Content-Security-Policy (server/http/security-headers.ts). */
export const INLINE_SCRIPT_HASH = `'sha256-${createHash('sha256').update(IMPORT_MAP_SCRIPT).digest('base64')}'`
const FONT_WEIGHTS = [400, 500, 600, 700]

export type Page = {
  /** literal text from this code base: not escaped */
  title: string
  /** after the fonts, in order */
  stylesheets: string[]
  /** the page's module */
  script: string
  /** the element the script renders into, id "app" (default div) */
  root?: 'div' | 'main'
  /** shown without JavaScript; literal text, not escaped */
  noscript: string
}

export function renderPage(page: Page): string {
  const links = [...FONT_WEIGHTS.map(weight => `/vendor/inter/${weight}.css`), ...page.stylesheets]
  const root = page.root ?? 'div'
  return `<!doctype html>
<html lang="en">
  <head>
    <meta charset="utf-8" />
    <meta name="viewport" content="width=device-width, initial-scale=1" />
    <meta name="color-scheme" content="dark" />
    <title>${page.title}</title>
    <link rel="icon" href="data:," />
${links.map(href => `    <link rel="stylesheet" href="${href}" />`).join('\n')}
    <script type="importmap">${IMPORT_MAP_SCRIPT}</script>
    <script type="module" src="${page.script}"></script>
  </head>
  <body>
    <${root} id="app"></${root}>
    <noscript>${page.noscript}</noscript>
  </body>
</html>
`
}

/** Pages revalidate on every load: they change with each release under the same address. */
export function sendPage(reply: FastifyReply, html: string): FastifyReply {
  return reply.type('text/html; charset=utf-8').header('cache-control', 'no-cache').send(html)
}
