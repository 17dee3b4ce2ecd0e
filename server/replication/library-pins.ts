import { metadataCidFromUri } from '../library/film-metadata.ts'
import { filmParts } from '../library/film-parts.ts'
import { section, type StateDb } from '../storage/state-db.ts'

/**
 * Catalogue CIDs the owner's library pins now, from its film records (every part of a film whose
 * metadata it has read, else its metadata): the replicator never counts them against the replica quota
 * and never unpins them.
 */
export async function libraryCatalogueCids(db: StateDb): Promise<Set<string>> {
  const cids = new Set<string>()
  for (const [, record] of await section(db, 'films').entries()) {
    if (record.state === 'locked' && record.unpinned === true) continue
    let metadataCid: string
    try {
      metadataCid = metadataCidFromUri(record.metadataUri).toString()
    } catch {
      continue // a film whose token URI is not ipfs://<cid> never got pinned
    }
    cids.add(metadataCid)
    if (record.metadata !== undefined) for (const part of filmParts(metadataCid, record.metadata)) cids.add(part.cid)
  }
  return cids
}
