// Signing a test client in as the box's owner, the way the pairing page on a phone does it.
import type { Wallet } from 'ethers'

export interface OwnerSession {
  /** Cookie and CSRF headers for a state-changing request. */
  headers: Record<string, string>
}

/** A minimal cookie jar: name=value pairs from Set-Cookie headers. */
export class CookieJar {
  #cookies = new Map<string, string>()

  take(response: Response): void {
    for (const line of response.headers.getSetCookie()) {
      const [pair] = line.split(';')
      const at = pair.indexOf('=')
      const value = pair.slice(at + 1)
      if (value === '') this.#cookies.delete(pair.slice(0, at))
      else this.#cookies.set(pair.slice(0, at), value)
    }
  }

  header(): string {
    return [...this.#cookies].map(([name, value]) => `${name}=${value}`).join('; ')
  }

  async fetch(url: string, init: RequestInit = {}): Promise<Response> {
    const response = await fetch(url, { ...init, headers: { ...(init.headers as Record<string, string>), cookie: this.header() } })
    this.take(response)
    return response
  }
}

/** Pairs the box to `wallet` (or signs in to the box it owns) and returns what the owner's browser then holds. */
export async function signInAsOwner(boxUrl: string, wallet: Wallet, jar = new CookieJar()): Promise<OwnerSession> {
  const state = (await (await jar.fetch(`${boxUrl}/api/pairing`)).json()) as { signedIn: boolean; code?: string }
  if (!state.signedIn) {
    const query = new URLSearchParams({ address: wallet.address, code: state.code as string })
    const { message } = (await (await jar.fetch(`${boxUrl}/api/pairing/message?${query}`)).json()) as { message: string }
    const response = await jar.fetch(`${boxUrl}/api/pairing`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ message, signature: await wallet.signMessage(message) })
    })
    if (!response.ok) throw new Error(`signing in failed: ${response.status} ${await response.text()}`)
  }
  const session = (await (await jar.fetch(`${boxUrl}/api/session`)).json()) as { signedIn: boolean; csrfToken: string }
  if (!session.signedIn) throw new Error('the box did not sign this client in')
  return { headers: { cookie: jar.header(), 'x-csrf-token': session.csrfToken } }
}

/**
 * The Cookie header of a screen signed in to the box at `boxUrl` by its owner (pairing the box to `owner`
 * first when it is unpaired), as the pairing flow signs a TV in. Every read of a film's stream, its
 * subtitles and thumbnails, and of the library (GET /api/library) needs it: a client without it is a
 * guest, and gets 401.
 */
export async function signedInCookie(boxUrl: string, owner: Wallet): Promise<{ cookie: string }> {
  return { cookie: (await signInAsOwner(boxUrl, owner)).headers.cookie as string }
}
