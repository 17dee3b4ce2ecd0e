// HTTP to a seed-one daemon's API, as a test client sees it.
import http from 'node:http'
import type { LibraryFilmView } from '../../server/library/routes.ts'

export interface RawResponse {
  status: number
  body: string
}

/** An HTTP request with any headers, Host included (fetch replaces a Host header with the URL's). */
export async function rawRequest(
  url: string,
  opts: { method?: string; headers?: Record<string, string>; body?: string | Buffer; localAddress?: string } = {}
): Promise<RawResponse> {
  return await new Promise((resolve, reject) => {
    const options = { method: opts.method ?? 'GET', headers: opts.headers, agent: false, localAddress: opts.localAddress }
    const req = http.request(url, options, res => {
      const parts: Buffer[] = []
      res.on('data', (part: Buffer) => parts.push(part))
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body: Buffer.concat(parts).toString('utf8') }))
      res.on('error', reject)
    })
    req.on('error', reject)
    req.end(opts.body)
  })
}

export interface StreamResponse {
  status: number
  headers: http.IncomingHttpHeaders
  body: Buffer
  /** false when the body was cut short (the server closed the connection) rather than ended cleanly */
  complete: boolean
}

/** A GET or HEAD that reports whether the body ended cleanly, and keeps what arrived before a cut. */
export async function streamRequest(url: string, headers: Record<string, string> = {}, method = 'GET'): Promise<StreamResponse> {
  return await new Promise((resolve, reject) => {
    const req = http.request(url, { method, headers, agent: false }, res => {
      const parts: Buffer[] = []
      res.on('data', (part: Buffer) => parts.push(part))
      res.on('error', () => {}) // a cut body shows up as complete === false
      res.on('close', () =>
        resolve({ status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(parts), complete: res.complete })
      )
    })
    req.on('error', reject)
    req.end()
  })
}

/** GETs `url` (with `headers`, e.g. an owner's cookie) and parses its JSON; anything but 200 is an error naming the status and body. */
export async function getJson<T = any>(url: string, headers: Record<string, string> = {}): Promise<T> {
  const response = await rawRequest(url, { headers })
  if (response.status !== 200) throw new Error(`GET ${url}: ${response.status} ${response.body}`)
  return JSON.parse(response.body) as T
}

export async function postJson(url: string, body: unknown, headers: Record<string, string> = {}): Promise<RawResponse & { json: any }> {
  const response = await rawRequest(url, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...headers },
    body: typeof body === 'string' ? body : JSON.stringify(body)
  })
  let json: unknown
  try {
    json = JSON.parse(response.body)
  } catch {
    json = undefined
  }
  return { ...response, json }
}

/** The box's library, as GET /api/library lists it to a screen signed in with `session` (signedInCookie in owner-session.ts). */
export async function libraryFilms(boxUrl: string, session: Record<string, string>): Promise<LibraryFilmView[]> {
  return (await getJson<{ films: LibraryFilmView[] }>(`${boxUrl}/api/library`, session)).films
}

/** One film of the box's library, undefined while the box does not list it. */
export async function libraryFilm(boxUrl: string, tokenId: string, session: Record<string, string>): Promise<LibraryFilmView | undefined> {
  return (await libraryFilms(boxUrl, session)).find(film => film.tokenId === tokenId)
}

/** A server-sent event stream as a test reads it: the events' names as they arrive. */
export interface EventStreamListener {
  status: number
  /** Resolves with the count of `name` events once more than `seen` have arrived. */
  waitForMore(name: string, seen: number, timeoutMs?: number): Promise<number>
  count(name: string): number
  /** Resolves when the server ends the stream. */
  ended: Promise<void>
  close(): void
}

/**
 * Opens `url` as an event stream (text/event-stream) from a screen signed in with `session`, once the
 * status line has arrived. `localAddress` (127.0.0.2 and on: all of 127/8 is loopback on Linux) makes it
 * another client address to the box.
 */
export async function listenToEvents(
  url: string,
  session: Record<string, string>,
  opts: { localAddress?: string } = {}
): Promise<EventStreamListener> {
  return await new Promise((resolve, reject) => {
    const req = http.get(
      url,
      { agent: false, headers: { ...session, accept: 'text/event-stream' }, localAddress: opts.localAddress },
      res => {
        const names: string[] = []
        let buffered = ''
        const waiters = new Set<() => void>()
        res.setEncoding('utf8')
        res.on('error', () => {}) // closing it (or the server going) only ends it
        res.on('data', (text: string) => {
          buffered += text
          const blocks = buffered.split('\n\n')
          buffered = blocks.pop() ?? ''
          for (const block of blocks) {
            const name = block.split('\n').find(line => line.startsWith('event: '))
            if (name !== undefined) names.push(name.slice('event: '.length))
          }
          for (const wake of waiters) wake()
        })
        const ended = new Promise<void>(resolve => res.on('close', resolve))
        const count = (name: string): number => names.filter(n => n === name).length
        resolve({
          status: res.statusCode ?? 0,
          count,
          async waitForMore(name, seen, timeoutMs = 10_000) {
            return await new Promise((resolve, reject) => {
              const check = (): void => {
                if (count(name) <= seen) return
                clearTimeout(timer)
                waiters.delete(check)
                resolve(count(name))
              }
              const timer = setTimeout(() => {
                waiters.delete(check)
                reject(new Error(`no new ${name} event from ${url} within ${timeoutMs} ms (${count(name)} in all)`))
              }, timeoutMs)
              waiters.add(check)
              check()
            })
          },
          ended,
          close: () => req.destroy()
        })
      }
    )
    req.on('error', reject)
  })
}
