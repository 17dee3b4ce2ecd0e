// The replicas this node holds for others, kept in its 'replication' state section: a CID is listed
// before its pin starts, so a pin cut short (even by a crash) is finished or released later.
import { section, type StateDb } from '../storage/state-db.ts'

export interface ReplicaList {
  get(): Promise<Set<string>>
  save(cids: Set<string>): Promise<void>
}

const REPLICAS_KEY = 'replicas'

export function replicaList(db: StateDb): ReplicaList {
  const replicaStore = section(db, 'replication')
  return {
    get: async () => new Set((await replicaStore.get(REPLICAS_KEY)) ?? []),
    save: async cids => await replicaStore.put(REPLICAS_KEY, [...cids])
  }
}

/** Bytes the replicas take: those the library does not also pin, at their catalogue size. */
export function replicaBytes(held: Set<string>, library: Set<string>, sizes: Map<string, number>): number {
  let bytes = 0
  for (const c of held) if (!library.has(c)) bytes += sizes.get(c) ?? 0
  return bytes
}
