// The URL a custodian last listened at, kept in its data directory: a publish run while it is stopped
// names it in the film's metadata, so boxes ask the custodian where it actually answers (not a default
// port it never used).
import { section, type StateDb } from '../storage/state-db.ts'

declare module '../storage/state-db.ts' {
  interface StateSchema {
    custodian: { url: string }
  }
}

export function custodianUrlStore(db: StateDb): { get(): Promise<string | undefined>; put(url: string): Promise<void> } {
  const store = section(db, 'custodian')
  return { get: async () => await store.get('url'), put: async url => await store.put('url', url) }
}
