// The HTML shell of every page Seed One serves (the TV UI, the phone's pairing page, the fleet
// dashboard), written once so their fonts and scripts cannot drift apart. The script is a bundle built
// for the floor's engines (server/ui/build-ui.ts): one classic deferred script, no import map.
import type { FastifyReply } from 'fastify'

const FONT_WEIGHTS = [400, 500, 600, 700]
/** The Inter stylesheets every page links first. */
export const FONT_STYLESHEETS = FONT_WEIGHTS.map(weight => `/vendor/inter/${weight}.css`)

export type Page = {
  /** literal text from this code base: not escaped */
  title: string
  /** after the fonts, in order */
  stylesheets: string[]
  /** the page's built script */
  script: string
  /** the element the script renders into, id "app" (default div) */
  root?: 'div' | 'main'
  /** shown without JavaScript; literal text, not escaped */
  noscript: string
}

export function renderPage(page: Page): string {
  const links = [...FONT_STYLESHEETS, ...page.stylesheets]
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
    <script defer src="${page.script}"></script>
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
