import { section, type StateDb } from '../storage/state-db.ts'
import type { FilmRecord } from './film-record.ts'

/** The owner's film records in the 'films' section, written one at a time. */
export interface FilmRecords {
  /** The record as saved. */
  saved(tokenId: string): Promise<FilmRecord | undefined>
  /** The record as the screens see it: with an error that could not be saved, if any. */
  get(tokenId: string): Promise<FilmRecord | undefined>
  /** Every record as the screens see it. */
  list(): Promise<FilmRecord[]>
  /** Every record as saved. */
  entries(): Promise<Array<[string, FilmRecord]>>
  /** Writes what `change` makes of the saved record (undefined: nothing to write); `quiet` tells the screens nothing. */
  mutate(
    tokenId: string,
    change: (saved: FilmRecord | undefined) => FilmRecord | undefined,
    opts?: { quiet?: boolean }
  ): Promise<FilmRecord | undefined>
  /** Merges `changes` into a record that must exist; the error goes unless `changes` sets one. */
  update(tokenId: string, changes: Partial<FilmRecord>): Promise<FilmRecord>
  /** Pin progress of a film still pinning, quietly and without waiting. */
  saveProgress(tokenId: string, progress: number): void
  /** Sets the film in error; a reason that cannot be saved (a full disk fails the database's writes too) is shown until a save succeeds. */
  saveError(tokenId: string, reason: string): Promise<void>
  del(tokenId: string): Promise<void>
  /** Waits for the writes under way. */
  settled(): Promise<unknown>
}

export function createFilmRecords(db: StateDb, onChange?: () => void): FilmRecords {
  const records = section(db, 'films')
  const unsavedErrors = new Map<string, string>()
  const current = (record: FilmRecord): FilmRecord => {
    const error = unsavedErrors.get(record.tokenId)
    return error === undefined ? record : { ...record, state: 'error', error }
  }
  // Record writes are serialised: a pin-progress write must never land after, and undo, a state change.
  let writes: Promise<unknown> = Promise.resolve()
  const mutate: FilmRecords['mutate'] = (tokenId, change, { quiet = false } = {}) => {
    const write = writes.then(async () => {
      const next = change(await records.get(tokenId))
      if (next === undefined) return next
      await records.put(tokenId, next)
      if (!quiet) onChange?.()
      return next
    })
    writes = write.catch(() => {})
    return write
  }
  const update: FilmRecords['update'] = async (tokenId, changes) => {
    const next = await mutate(tokenId, saved => {
      if (saved === undefined) throw new Error(`film ${tokenId} is not in the library`)
      const record = { ...saved, ...changes }
      if (!('error' in changes)) delete record.error
      return record
    })
    unsavedErrors.delete(tokenId)
    return next as FilmRecord
  }
  return {
    saved: async tokenId => await records.get(tokenId),
    get: async tokenId => {
      const saved = await records.get(tokenId)
      return saved === undefined ? undefined : current(saved)
    },
    list: async () => (await records.entries()).map(([, record]) => current(record)),
    entries: async () => await records.entries(),
    mutate,
    update,
    saveProgress(tokenId, progress) {
      void mutate(tokenId, saved => (saved?.state === 'pinning' ? { ...saved, progress } : undefined), { quiet: true }).catch(() => {})
    },
    async saveError(tokenId, reason) {
      await update(tokenId, { state: 'error', error: reason }).catch(err => {
        unsavedErrors.set(tokenId, reason)
        throw err
      })
    },
    del: async tokenId => await records.del(tokenId),
    settled: () => writes
  }
}
