// URLs that peers hand a box or the monitor (a report's apiUrl, a film's custodian URL) name a box,
// nothing more: scheme, host and port. A path, query, userinfo or fragment would let a peer aim a
// box's or the monitor's requests at any route of any host; such a URL is refused, and requests to
// peers never follow redirects (`redirect: 'manual'` or node:http, which follows none).

export class PeerUrlError extends Error {
  override name = 'PeerUrlError'
}

/** JSON schema pattern of a peer URL as sent: http(s)://host[:port], no trailing slash. */
export const PEER_URL_PATTERN = '^https?://[^/?#@\\s]+$'

/** `text` reduced to its origin (http(s)://host:port), or a PeerUrlError saying what is wrong. */
export function peerOrigin(text: string): string {
  let url: URL
  try {
    url = new URL(text)
  } catch {
    throw new PeerUrlError(`not a URL: "${text.slice(0, 200)}"`)
  }
  const wrong =
    url.protocol !== 'http:' && url.protocol !== 'https:'
      ? 'is not http or https'
      : url.username !== '' || url.password !== '' || text.includes('@')
        ? 'carries userinfo'
        : url.pathname !== '/' || url.search !== '' || url.hash !== '' || /[?#]/.test(text)
          ? 'has a path, query or fragment'
          : undefined
  if (wrong !== undefined) throw new PeerUrlError(`a peer URL is scheme, host and port only: "${text.slice(0, 200)}" ${wrong}`)
  return url.origin
}
