import type { FastifyInstance } from 'fastify'
import type { DiscoveredBox, Discovery } from './discovery.ts'
import { FONT_STYLESHEETS } from '../ui/page.ts'

export const DISCOVER_PATH = '/discover'
export const DISCOVER_API_PATH = '/api/discover'

const discoveredSchema = {
  type: 'object',
  required: ['boxes'],
  additionalProperties: false,
  properties: {
    boxes: {
      type: 'array',
      items: {
        type: 'object',
        required: ['name', 'urls', 'lastReportAt'],
        additionalProperties: false,
        properties: { name: { type: 'string' }, urls: { type: 'array', items: { type: 'string' } }, lastReportAt: { type: 'string' } }
      }
    }
  }
} as const

const escapeHtml = (text: string): string =>
  text.replace(/[&<>"']/g, char => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[char] ?? char)

/** The discovery page: server-rendered, no script, so the oldest TV browser shows it; the fleet dashboard's look. */
export function discoveryPage(boxes: DiscoveredBox[]): string {
  const list =
    boxes.length === 0
      ? `<p>No Seed One has reported from your network in the last minutes. Check that the box is on and connected to the
      internet, and that this device uses the same network (Wi-Fi, not mobile data), then load this page again.</p>`
      : `<ul>
${boxes
  .map(
    box =>
      `      <li><strong>${escapeHtml(box.name)}</strong>: ${box.urls
        .map(url => `<a href="${escapeHtml(url)}">${escapeHtml(url)}</a>`)
        .join(' or ')}</li>`
  )
  .join('\n')}
    </ul>`
  return `<!doctype html>
<html lang="en">
  <head>
    <meta charset="utf-8" />
    <meta name="viewport" content="width=device-width, initial-scale=1" />
    <meta name="color-scheme" content="dark" />
    <meta name="referrer" content="no-referrer" />
    <title>Find your Seed One</title>
    <link rel="icon" href="data:," />
${[...FONT_STYLESHEETS, '/theme.css', '/styles.css'].map(href => `    <link rel="stylesheet" href="${href}" />`).join('\n')}
  </head>
  <body>
    <main class="page">
      <h2>Find your Seed One</h2>
      ${list}
    </main>
  </body>
</html>
`
}

/**
 * GET /discover (HTML) and GET /api/discover (JSON): the boxes that reported from the visitor's own
 * public address (request.ip), with their LAN links; any other visitor is shown none. Never cached: the
 * answer depends on who asks.
 */
export async function discoveryRoutes(app: FastifyInstance, opts: { discovery: Discovery }): Promise<void> {
  app.get(DISCOVER_API_PATH, { schema: { response: { 200: discoveredSchema } } }, async (request, reply) => {
    reply.header('cache-control', 'no-store')
    return { boxes: await opts.discovery.boxesFor(request.ip) }
  })
  app.get(DISCOVER_PATH, async (request, reply) =>
    reply
      .type('text/html; charset=utf-8')
      .header('cache-control', 'no-store')
      .send(discoveryPage(await opts.discovery.boxesFor(request.ip)))
  )
}
