import { metadataCidFromUri } from '../library/film-metadata.ts'
import { section, type StateDb } from '../storage/state-db.ts'

/**
 * Catalogue CIDs (metadata and content) the owner's library pins now, from its film records: the
 * replicator never counts them against the replica quota and never unpins them.
 */
export async function libraryCatalogueCids(db: StateDb): Promise<Set<string>> {
  const cids = new Set<string>()
  for (const [, record] of await section(db, 'films').entries()) {
    if (record.state === 'locked' && record.unpinned === true) continue
    try {
      cids.add(metadataCidFromUri(record.metadataUri).toString())
    } catch {
      continue // a film whose token URI is not ipfs://<cid> never got pinned
    }
    if (record.metadata !== undefined) cids.add(record.metadata.content.cid)
  }
  return cids
}
