import { createCipheriv, createDecipheriv, randomBytes } from 'node:crypto'
import path from 'node:path'
import { loadOrCreateSecret } from '../identity/secret-file.ts'
import { section, type StateDb } from '../storage/state-db.ts'

declare module '../storage/state-db.ts' {
  interface StateSchema {
    /** Each film's content key, sealed with the custody key file, base64url, by content CID. */
    custody: { [contentCid: string]: string }
  }
}

/**
 * The custodian's film content keys, by sealed-content CID. They are kept in the state database
 * encrypted under a master key that lives in its own 0600 file, so a copied database alone reveals
 * nothing. Keyed by content CID (known before the film is registered) so a crash between
 * sealing and registration never loses a key.
 */
export interface CustodyStore {
  put(contentCid: string, contentKey: Uint8Array): Promise<void>
  get(contentCid: string): Promise<Uint8Array | undefined>
}

export class CustodyError extends Error {
  override name = 'CustodyError'
}

const NONCE_LENGTH = 12
const TAG_LENGTH = 16

/** The master key's file: made at the custodian role's first start, so it marks a custodian's data directory. */
export const custodyMasterKeyPath = (dataDir: string): string => path.join(dataDir, 'keys', 'custody-master.key')

export async function openCustodyStore(dataDir: string, db: StateDb): Promise<CustodyStore> {
  const masterKey = await loadOrCreateSecret(custodyMasterKeyPath(dataDir), () => randomBytes(32))
  const keys = section(db, 'custody')
  return {
    async put(contentCid, contentKey) {
      const nonce = randomBytes(NONCE_LENGTH)
      const cipher = createCipheriv('aes-256-gcm', masterKey, nonce).setAAD(Buffer.from(contentCid))
      const sealed = Buffer.concat([nonce, cipher.update(contentKey), cipher.final(), cipher.getAuthTag()])
      await keys.put(contentCid, sealed.toString('base64url'))
    },
    async get(contentCid) {
      const stored = await keys.get(contentCid)
      if (stored === undefined) return undefined
      const sealed = Buffer.from(stored, 'base64url')
      const decipher = createDecipheriv('aes-256-gcm', masterKey, sealed.subarray(0, NONCE_LENGTH))
        .setAAD(Buffer.from(contentCid))
        .setAuthTag(sealed.subarray(sealed.length - TAG_LENGTH))
      try {
        return new Uint8Array(Buffer.concat([decipher.update(sealed.subarray(NONCE_LENGTH, sealed.length - TAG_LENGTH)), decipher.final()]))
      } catch {
        throw new CustodyError(`the stored key of ${contentCid} does not open with this custodian's master key`)
      }
    }
  }
}
