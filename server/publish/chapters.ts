// The source's chapters as the film's metadata lists them and as a WebVTT chapters track.
import { MAX_CHAPTER_TITLE, MAX_CHAPTERS, type ChapterMetadata } from '../library/film-metadata.ts'
import { MediaError, type MediaInfo } from './probe.ts'
import { escapeVtt, writeWebVtt } from './webvtt.ts'

/** The chapters of a probed source, each titled (an untitled one by its number); a MediaError past MAX_CHAPTERS. */
export function chapterEntries(info: MediaInfo): ChapterMetadata[] {
  if (info.chapters.length > MAX_CHAPTERS)
    throw new MediaError(
      `the source has ${info.chapters.length} chapters, more than the ${MAX_CHAPTERS} a film may list: merge them, or drop them (ffmpeg -map_chapters -1)`
    )
  return info.chapters.map((chapter, i) => ({
    startSeconds: round(chapter.startSeconds),
    endSeconds: round(chapter.endSeconds),
    title: truncate((chapter.title ?? '').trim() || `Chapter ${i + 1}`, MAX_CHAPTER_TITLE)
  }))
}

/** Milliseconds are as fine as WebVTT times go. */
const round = (seconds: number): number => Math.round(seconds * 1000) / 1000

function truncate(text: string, max: number): string {
  const chars = [...text]
  return chars.length <= max ? text : `${chars.slice(0, max - 1).join('')}…`
}

/** The chapters as a WebVTT file for a <track kind="chapters">: one cue a chapter, its title the text. */
export function chaptersWebVtt(chapters: ChapterMetadata[]): string {
  return writeWebVtt(
    chapters.map(chapter => ({ start: chapter.startSeconds, end: chapter.endSeconds, settings: '', text: escapeVtt(chapter.title) }))
  )
}
