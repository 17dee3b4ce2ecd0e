import { section, type StateDb } from '../storage/state-db.ts'
import type { OwnerAuthorisation } from '../wire/custodian-protocol.ts'

declare module '../storage/state-db.ts' {
  interface StateSchema {
    pairing: { owner: Pairing }
  }
}

export interface Pairing extends OwnerAuthorisation {
  owner: string
  pairedAt: string
}

/** The one owner this box is paired with, and the authorisation they signed. */
export interface PairingStore {
  owner(): Promise<string | undefined>
  authorisation(): Promise<Pairing | undefined>
  save(pairing: Pairing): Promise<void>
  /** Keeps the owner's newer authorisation in place of the old one (renewal); the owner stays. */
  renew(authorisation: OwnerAuthorisation): Promise<void>
  /** Forgets the owner and their authorisation (unpairing). */
  clear(): Promise<void>
}

export function createPairingStore(db: StateDb): PairingStore {
  const store = section(db, 'pairing')
  return {
    owner: async () => (await store.get('owner'))?.owner,
    authorisation: async () => await store.get('owner'),
    save: async pairing => {
      await store.put('owner', pairing)
    },
    renew: async authorisation => {
      const kept = await store.get('owner')
      if (kept === undefined) return
      await store.put('owner', { ...kept, message: authorisation.message, signature: authorisation.signature })
    },
    clear: async () => {
      await store.del('owner')
    }
  }
}
