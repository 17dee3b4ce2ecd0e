import { randomInt } from 'node:crypto'

/** Letters and digits that survive being read off a TV across a room (no 0/O, 1/I/L). */
const ALPHABET = 'ABCDEFGHJKMNPQRSTUVWXYZ23456789'
const CODE_LENGTH = 8
const CODE_LIFETIME_MS = 10 * 60_000
const MAX_FAILED_ATTEMPTS = 5

/**
 * The short code the TV shows while unpaired. It is the SIWE nonce of the pairing message, so a
 * signature made for one code cannot pair later. A code expires, and too many wrong attempts burn it.
 */
export class PairingCode {
  #code = ''
  #expiresAt = 0
  #failures = 0

  current(now = Date.now()): { code: string; expiresAt: Date } {
    if (this.#code === '' || now >= this.#expiresAt || this.#failures >= MAX_FAILED_ATTEMPTS) this.renew(now)
    return { code: this.#code, expiresAt: new Date(this.#expiresAt) }
  }

  /** True when `code` is the live code; counts a failure otherwise. */
  check(code: string, now = Date.now()): boolean {
    const live = this.#code !== '' && now < this.#expiresAt && this.#failures < MAX_FAILED_ATTEMPTS && code === this.#code
    if (!live) this.#failures++
    return live
  }

  failed(): void {
    this.#failures++
  }

  renew(now = Date.now()): void {
    this.#code = Array.from({ length: CODE_LENGTH }, () => ALPHABET[randomInt(ALPHABET.length)]).join('')
    this.#expiresAt = now + CODE_LIFETIME_MS
    this.#failures = 0
  }
}
