// The access tokens of the Pinning Service API: made and revoked by the owner, each shown once when
// made. Only a hash of each is kept, so the state database never holds a usable token.
import { createHash, randomBytes, randomUUID } from 'node:crypto'
import { section, type StateDb } from '../storage/state-db.ts'
import { SeedError } from '../lib/errors.ts'

/** What the owner sees of a token: never its secret. */
export interface PinningToken {
  id: string
  name: string
  created: string
}

declare module '../storage/state-db.ts' {
  interface StateSchema {
    /** Keyed by the SHA-256 of a token's secret (hex). */
    pinningTokens: { [secretHash: string]: PinningToken }
  }
}

export interface PinningTokens {
  /** Makes a token: its secret is in the answer and nowhere else. */
  create(name: string): Promise<PinningToken & { secret: string }>
  list(): Promise<PinningToken[]>
  /** Revokes the token of that id: the tools that use it get 401 from then on. */
  revoke(id: string): Promise<void>
  /** The token whose secret this is, or undefined. */
  verify(secret: string): Promise<PinningToken | undefined>
}

/** 32 random bytes: a secret no one guesses, and whose hash alone is a safe key. */
const SECRET_BYTES = 32
const secretHash = (secret: string): string => createHash('sha256').update(secret).digest('hex')

export function createPinningTokens(db: StateDb): PinningTokens {
  const store = section(db, 'pinningTokens')
  return {
    async create(name) {
      const secret = randomBytes(SECRET_BYTES).toString('base64url')
      const token: PinningToken = { id: randomUUID(), name, created: new Date().toISOString() }
      await store.put(secretHash(secret), token)
      return { ...token, secret }
    },
    list: async () => (await store.entries()).map(([, token]) => token).sort((a, b) => a.created.localeCompare(b.created)),
    async revoke(id) {
      const found = (await store.entries()).find(([, token]) => token.id === id)
      if (found === undefined)
        throw new SeedError('SEED_PINNING_TOKEN_NOT_FOUND', `no pinning token has the id ${id}: list the tokens to see theirs`)
      await store.del(found[0])
    },
    verify: async secret => await store.get(secretHash(secret))
  }
}
