import type { ServerResponse } from 'node:http'
import { collectGarbage } from '../lib/gc-tuning.ts'

/** How long after the last film response closes the box collects the garbage the streams left. */
const IDLE_COLLECT_MS = 5_000

/**
 * The film responses open on one box, by film. Refusing new ranges is not enough when a film is sold:
 * a TV playing one open-ended range would go on to the end of the film. So each response is followed
 * here from the moment it is asked for, and a sale aborts it (send-film.ts then closes its connection
 * mid-body). Made once per daemon and handed to the streaming routes and to the library.
 */
export interface FilmStreams {
  /**
   * Follows `res`, an answer for film `tokenId`, until it closes. The signal aborts when the film is
   * cut; following starts before the film is opened, so a sale racing the request cuts it too.
   */
  follow(tokenId: string, res: ServerResponse): AbortSignal
  /** Aborts every open response of film `tokenId` (sold), with `reason`; returns how many there were. */
  cut(tokenId: string, reason: Error): number
  /** Aborts every open response of every film (the owner unpaired the box). */
  cutAll(reason: Error): number
  /** Film responses open now, all films together. */
  count(): number
}

/**
 * `whenIdle` runs `idleMs` after the last film response closed, unless another opened meanwhile:
 * by default a full garbage collection (gc-tuning.ts), which gives the streams' memory back.
 */
export function createFilmStreams(opts: { whenIdle?: () => void; idleMs?: number } = {}): FilmStreams {
  const whenIdle = opts.whenIdle ?? collectGarbage
  const idleMs = opts.idleMs ?? IDLE_COLLECT_MS
  const open = new Map<string, Set<AbortController>>()
  let idleTimer: NodeJS.Timeout | undefined
  const abortAll = (controllers: Set<AbortController> | undefined, reason: Error): number => {
    const all = [...(controllers ?? [])]
    for (const controller of all) controller.abort(reason)
    return all.length
  }
  return {
    follow(tokenId, res) {
      const controller = new AbortController()
      if (res.closed) return controller.signal
      clearTimeout(idleTimer)
      const responses = open.get(tokenId) ?? new Set<AbortController>()
      open.set(tokenId, responses)
      responses.add(controller)
      res.once('close', () => {
        responses.delete(controller)
        if (responses.size === 0 && open.get(tokenId) === responses) open.delete(tokenId)
        if (open.size === 0) idleTimer = setTimeout(whenIdle, idleMs).unref()
      })
      return controller.signal
    },
    cut: (tokenId, reason) => abortAll(open.get(tokenId), reason),
    cutAll(reason) {
      let cut = 0
      for (const responses of [...open.values()]) cut += abortAll(responses, reason)
      return cut
    },
    count() {
      let total = 0
      for (const responses of open.values()) total += responses.size
      return total
    }
  }
}
