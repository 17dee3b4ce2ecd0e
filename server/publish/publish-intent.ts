// What a publish has done so far, kept under a fingerprint of its request so that rerunning the same
// command after a kill picks up where it stopped: its sealed content, its signed registration, and
// once registered, the film (which a rerun then answers again instead of publishing it twice).
import { createHash } from 'node:crypto'
import { section, type StateDb, type Store } from '../storage/state-db.ts'
import { statInputFile } from './probe.ts'
import type { PublishedFilm } from './publish-film.ts'
import type { SignedRegistration } from './registration.ts'

declare module '../storage/state-db.ts' {
  interface StateSchema {
    publishing: { [fingerprint: string]: PublishIntent }
  }
}

export interface PreparedFilm {
  metadataCid: string
  contentCid: string
  /** Every root the publish pinned (absent in intents kept before it was noted: then the two above). */
  pins?: string[]
}

export interface PublishIntent {
  prepared: PreparedFilm
  registration?: SignedRegistration
  film?: PublishedFilm
}

export function publishIntents(db: StateDb): Store<'publishing'> {
  return section(db, 'publishing')
}

/** A file as it is now: a different or edited file is a different publish. */
async function fileIdentity(file: string): Promise<{ file: string; size: number; mtimeMs: number }> {
  return { file, ...(await statInputFile(file)) }
}

/**
 * The same input files (path, size, modification time), the same request and the same contract and
 * creator give the same fingerprint.
 */
export async function publishFingerprint(
  request: { input: string; subtitles?: Array<{ file: string; language: string; label: string }> },
  target: { contract: string; creator: string; custodian: { url: string; peerId: string } }
): Promise<string> {
  const subtitles = []
  for (const track of request.subtitles ?? []) subtitles.push({ ...track, ...(await fileIdentity(track.file)) })
  const described = { ...request, input: await fileIdentity(request.input), subtitles, ...target }
  const json = JSON.stringify(described, (_key, value: unknown) => (typeof value === 'bigint' ? value.toString() : value))
  return createHash('sha256').update(json).digest('hex')
}
