import { section, type StateDb } from '../storage/state-db.ts'

declare module '../storage/state-db.ts' {
  interface StateSchema {
    playback: { [tokenId: string]: PlaybackProgress }
  }
}

/** Where the owner stopped watching a film, as kept in the 'playback' section. */
export interface PlaybackProgress {
  positionSec: number
  durationSec: number
  /** Set once the owner got past WATCHED_FRACTION, and kept: a film watched again is still watched. */
  watched: boolean
  updatedAt: string
}

/** What the screens show of it: whether to offer Resume. */
export interface PlaybackView extends PlaybackProgress {
  resumable: boolean
}

// Jellyfin's defaults (MinResumePct, MaxResumePct, MinResumeDurationSeconds).
const RESUME_FROM_FRACTION = 0.05
const WATCHED_FRACTION = 0.9
export const RESUME_MIN_DURATION_SEC = 5 * 60

/**
 * Resume is offered when the owner stopped past 5 % and before 90 % of a film longer than 5 minutes;
 * earlier it starts again from the beginning, later it counts as watched.
 */
export function presentPlayback(progress: PlaybackProgress): PlaybackView {
  const fraction = progress.positionSec / progress.durationSec
  const resumable = progress.durationSec > RESUME_MIN_DURATION_SEC && fraction > RESUME_FROM_FRACTION && fraction <= WATCHED_FRACTION
  return { ...progress, resumable }
}

export interface PlaybackStore {
  get(tokenId: string): Promise<PlaybackView | undefined>
  /** Records a position the player reported; the time is now. */
  record(tokenId: string, position: { positionSec: number; durationSec: number }): Promise<PlaybackView>
  all(): Promise<Map<string, PlaybackView>>
  /** Forgets every film's progress (unpairing: the watch history is the owner's). */
  clear(): Promise<void>
}

export function createPlaybackStore(db: StateDb): PlaybackStore {
  const store = section(db, 'playback')
  // one write at a time, so two reports racing cannot lose the watched flag between read and write
  let writes: Promise<unknown> = Promise.resolve()
  return {
    get: async tokenId => {
      const progress = await store.get(tokenId)
      return progress === undefined ? undefined : presentPlayback(progress)
    },
    record: async (tokenId, { positionSec, durationSec }) => {
      const write = writes.then(async () => {
        const watchedBefore = (await store.get(tokenId))?.watched ?? false
        const progress: PlaybackProgress = {
          positionSec,
          durationSec,
          watched: watchedBefore || positionSec / durationSec > WATCHED_FRACTION,
          updatedAt: new Date().toISOString()
        }
        await store.put(tokenId, progress)
        return presentPlayback(progress)
      })
      writes = write.catch(() => {})
      return await write
    },
    all: async () => new Map((await store.entries()).map(([tokenId, progress]) => [tokenId, presentPlayback(progress)])),
    clear: async () => {
      const write = writes.then(async () => {
        for (const [tokenId] of await store.entries()) await store.del(tokenId)
      })
      writes = write.catch(() => {})
      await write
    }
  }
}
