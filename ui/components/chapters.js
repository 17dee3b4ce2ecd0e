// A film's chapters in the player: which one is playing, and where next and previous chapter go.

/** @typedef {import('../api.js').Film['chapters'][number]} Chapter */

/** Pressing previous this far into a chapter goes back to its start, as a music player's does; sooner, to the chapter before. */
const RESTART_WITHIN_SEC = 3
/** A position this close after a chapter's start counts as at it (a seek lands a little off). */
const AT_START_SEC = 0.5

/**
 * The index of the chapter playing at `position` (-1 before the first, or without chapters).
 * @param {Chapter[]} chapters in time order
 * @param {number} position
 */
export function chapterIndexAt(chapters, position) {
  let index = -1
  chapters.forEach((chapter, i) => {
    if (chapter.startSeconds <= position + AT_START_SEC / 10) index = i
  })
  return index
}

/**
 * Where next chapter goes from `position`: the start of the first chapter after it, or null after the last.
 * @param {Chapter[]} chapters
 * @param {number} position
 * @returns {number | null}
 */
export function nextChapterStart(chapters, position) {
  const next = chapters.find(chapter => chapter.startSeconds > position + AT_START_SEC)
  return next ? next.startSeconds : null
}

/**
 * Where previous chapter goes from `position`: the start of the chapter playing, when it is more than a few
 * seconds in, else the start of the one before (or of the film).
 * @param {Chapter[]} chapters
 * @param {number} position
 * @returns {number}
 */
export function previousChapterStart(chapters, position) {
  const index = chapterIndexAt(chapters, position)
  if (index === -1) return 0
  if (position - chapters[index].startSeconds > RESTART_WITHIN_SEC) return chapters[index].startSeconds
  return index > 0 ? chapters[index - 1].startSeconds : 0
}
