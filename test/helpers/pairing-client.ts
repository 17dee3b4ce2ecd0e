// The pairing flow as the TV's browser and the owner's phone drive it, each with its own cookies.
import type { Wallet } from 'ethers'
import type { PairingState } from '../../server/pairing/routes.ts'
import { CookieJar } from './owner-session.ts'

export interface Answer {
  status: number
  json: any
}

/** A request through `jar` (a browser's cookies); the answer's JSON, when it is JSON. */
export async function call(jar: CookieJar, url: string, init: RequestInit = {}): Promise<Answer> {
  const response = await jar.fetch(url, init)
  const text = await response.text()
  let json: unknown
  try {
    json = JSON.parse(text)
  } catch {
    json = text
  }
  return { status: response.status, json }
}

/** GET /api/pairing, as the TV polls it. */
export async function pollPairing(boxUrl: string, jar: CookieJar): Promise<PairingState> {
  const answer = await call(jar, `${boxUrl}/api/pairing`)
  if (answer.status !== 200) throw new Error(`GET /api/pairing: ${answer.status} ${JSON.stringify(answer.json)}`)
  return answer.json as PairingState
}

/** GET /api/pairing/message for `address` and `code`. */
export async function askMessage(boxUrl: string, address: string, code: string, jar = new CookieJar()): Promise<Answer> {
  return await call(jar, `${boxUrl}/api/pairing/message?${new URLSearchParams({ address, code })}`)
}

/** The message to sign for `code`; anything but 200 is an error. */
export async function messageFor(boxUrl: string, address: string, code: string): Promise<string> {
  const answer = await askMessage(boxUrl, address, code)
  if (answer.status !== 200) throw new Error(`GET /api/pairing/message: ${answer.status} ${JSON.stringify(answer.json)}`)
  return answer.json.message as string
}

/** POST /api/pairing with `signer`'s signature of `message`, from the browser holding `jar`. */
export async function sendSignature(boxUrl: string, message: string, signer: Wallet, jar = new CookieJar()): Promise<Answer> {
  return await call(jar, `${boxUrl}/api/pairing`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ message, signature: await signer.signMessage(message) })
  })
}

/** GET /api/session: whether the browser holding `jar` is signed in, and its CSRF token. */
export async function session(boxUrl: string, jar: CookieJar): Promise<{ signedIn: boolean; owner: string | null; csrfToken: string }> {
  return (await call(jar, `${boxUrl}/api/session`)).json
}
