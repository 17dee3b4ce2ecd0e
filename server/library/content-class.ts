import type { ContentClass, FilmMetadata } from './film-metadata.ts'

/** Classes the owner sees only with developer mode on (the platform's rule), labelled then. */
const DEVELOPER_CLASSES: ReadonlySet<ContentClass> = new Set(['test', 'development'])

/**
 * Whether the owner's screens show a film: `test` and `development` films only in developer mode,
 * and `test` films past their expiry never. A film whose metadata has not arrived yet is shown (as
 * pending): its class is not known, and the owner bought it.
 */
export function isShown(metadata: FilmMetadata | undefined, developerMode: boolean, now = Date.now()): boolean {
  if (metadata === undefined) return true
  if (DEVELOPER_CLASSES.has(metadata.contentClass) && !developerMode) return false
  return !(metadata.contentClass === 'test' && metadata.expiresAt !== undefined && Date.parse(metadata.expiresAt) <= now)
}
