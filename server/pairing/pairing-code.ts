import { randomBytes, randomInt } from 'node:crypto'

/** Letters and digits that survive being read off a TV across a room (no 0/O, 1/I/L). */
const ALPHABET = 'ABCDEFGHJKMNPQRSTUVWXYZ23456789'
const CODE_LENGTH = 8
const CODE_LIFETIME_MS = 10 * 60_000
const MAX_FAILED_ATTEMPTS = 5
/** Browsers waiting to be signed in at once; the oldest claim gives way beyond this. */
const MAX_CLAIMS = 32

interface Claim {
  code: string
  expiresAt: number
  failures: number
  /** Set when the owner signed this claim's code: the browser holding the claim may now start a session. */
  granted: boolean
}

function newCode(): string {
  return Array.from({ length: CODE_LENGTH }, () => ALPHABET[randomInt(ALPHABET.length)]).join('')
}

/**
 * The short codes TVs show while not signed in, one per browser: each browser holds a claim token in
 * an HTTP-only cookie, and only the browser whose own code the owner signed is signed in by it, so a
 * guest who opened the page at the same moment gains nothing. A code is the SIWE nonce of the pairing
 * message, expires, and too many failed signatures burn it.
 */
export class PairingClaims {
  #claims = new Map<string, Claim>()

  /** The live code for the claim token (a fresh claim when the token is unknown or its code is spent). */
  current(token: string | undefined, now = Date.now()): { token: string; code: string; expiresAt: Date } {
    let claim = token === undefined ? undefined : this.#claims.get(token)
    if (token === undefined || claim === undefined || !this.#live(claim, now)) {
      token = randomBytes(24).toString('base64url')
      claim = { code: newCode(), expiresAt: now + CODE_LIFETIME_MS, failures: 0, granted: false }
      this.#claims.set(token, claim)
      this.#prune(now)
    }
    return { token, code: claim.code, expiresAt: new Date(claim.expiresAt) }
  }

  /** The live claim whose code is `code`, if any. */
  find(code: string, now = Date.now()): Claim | undefined {
    for (const claim of this.#claims.values()) if (claim.code === code && this.#live(claim, now)) return claim
    return undefined
  }

  failed(claim: Claim): void {
    claim.failures++
  }

  grant(claim: Claim): void {
    claim.granted = true
  }

  /** True once, for a granted claim: the claim is then spent. */
  redeem(token: string | undefined): boolean {
    const claim = token === undefined ? undefined : this.#claims.get(token)
    if (claim?.granted !== true) return false
    this.#claims.delete(token as string)
    return true
  }

  #live(claim: Claim, now: number): boolean {
    return !claim.granted && now < claim.expiresAt && claim.failures < MAX_FAILED_ATTEMPTS
  }

  #prune(now: number): void {
    for (const [token, claim] of this.#claims) if (!claim.granted && !this.#live(claim, now)) this.#claims.delete(token)
    // Map order is insertion order: the first entries are the oldest claims.
    for (const token of this.#claims.keys()) {
      if (this.#claims.size <= MAX_CLAIMS) break
      this.#claims.delete(token)
    }
  }
}
