import { randomBytes, randomInt } from 'node:crypto'

/** Letters and digits that survive being read off a TV across a room (no 0/O, 1/I/L). */
const ALPHABET = 'ABCDEFGHJKMNPQRSTUVWXYZ23456789'
const CODE_LENGTH = 8
export const CODE_PATTERN = `^[${ALPHABET}]{${CODE_LENGTH}}$`
const CODE_LIFETIME_MS = 10 * 60_000
const MAX_FAILED_SIGNATURES = 5
/** Browsers waiting to be signed in at once; the oldest claim gives way beyond this. */
const MAX_CLAIMS = 32
/** Claims one client address holds at once, so a guest fetching codes in a loop only pushes out its own. */
const MAX_CLAIMS_PER_ADDRESS = 8

export interface Claim {
  code: string
  /** The client address that fetched it. */
  address: string
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
 * message, is used once, expires, and too many failed signatures for it burn it.
 */
export class PairingClaims {
  #claims = new Map<string, Claim>()
  #lifetimeMs: number
  #clock: () => number

  constructor(opts: { lifetimeMs?: number; clock?: () => number } = {}) {
    this.#lifetimeMs = opts.lifetimeMs ?? CODE_LIFETIME_MS
    this.#clock = opts.clock ?? Date.now
  }

  /** The live claim held by `token`, if any. */
  peek(token: string | undefined): Claim | undefined {
    const claim = token === undefined ? undefined : this.#claims.get(token)
    return claim !== undefined && this.#live(claim) ? claim : undefined
  }

  /** The live code for the claim token (a fresh claim when the token is unknown or its code is spent). */
  current(token: string | undefined, address: string): { token: string; code: string; expiresAt: Date } {
    let claim = this.peek(token)
    if (token === undefined || claim === undefined) {
      token = randomBytes(24).toString('base64url')
      claim = { code: newCode(), address, expiresAt: this.#clock() + this.#lifetimeMs, failures: 0, granted: false }
      this.#prune(address)
      this.#claims.set(token, claim)
    }
    return { token, code: claim.code, expiresAt: new Date(claim.expiresAt) }
  }

  /** The live claim whose code is `code`, if any. */
  find(code: string): Claim | undefined {
    for (const claim of this.#claims.values()) if (claim.code === code && this.#live(claim)) return claim
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

  /** Forgets every claim, granted or not (unpairing: no browser is signed in by an earlier signature). */
  clear(): void {
    this.#claims.clear()
  }

  #live(claim: Claim): boolean {
    return !claim.granted && this.#clock() < claim.expiresAt && claim.failures < MAX_FAILED_SIGNATURES
  }

  /** Makes room for one more claim from `address`. Map order is insertion order: the first entries are the oldest. */
  #prune(address: string): void {
    for (const [token, claim] of this.#claims) if (!claim.granted && !this.#live(claim)) this.#claims.delete(token)
    const fromAddress = [...this.#claims].filter(([, claim]) => claim.address === address)
    for (const [token] of fromAddress.slice(0, Math.max(0, fromAddress.length - MAX_CLAIMS_PER_ADDRESS + 1))) this.#claims.delete(token)
    for (const token of this.#claims.keys()) {
      if (this.#claims.size < MAX_CLAIMS) break
      this.#claims.delete(token)
    }
  }
}
