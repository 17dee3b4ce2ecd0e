// What a catalogue's sync says when it fails: the chain's failures under one rate-limited warning, and
// each film whose metadata cannot be read under its own, naming the film and how to take it out. One
// unreachable film neither hides another's warning nor repeats its own every sync.
import { repeatedWarning, type RepeatedWarning, type WarningLog } from '../lib/repeated-warning.ts'
import { FilmUnreadableError } from './catalogue.ts'

/** The catalogue's onError: `syncMessage` for a sync that failed, a warning per film for its metadata. */
export function catalogueWarnings(log: WarningLog, syncMessage: string): (err: unknown) => void {
  const sync = repeatedWarning(log, syncMessage)
  const films = new Map<string, RepeatedWarning>()
  return err => {
    if (!(err instanceof FilmUnreadableError)) return sync.warn({ err: (err as Error).message })
    const { tokenId } = err
    let film = films.get(tokenId)
    if (film === undefined) {
      film = repeatedWarning(
        log,
        `film ${tokenId}: its metadata cannot be read from any node; retrying, less often each time (if nobody will serve it, its creator can retire it: seed-one retire ${tokenId})`
      )
      films.set(tokenId, film)
    }
    film.warn({ tokenId, err: err.message })
  }
}
