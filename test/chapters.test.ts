// The source's chapters as publish lists them (server/publish/chapters.ts): titled, bounded, and as a
// WebVTT chapters track. The ffprobe side is in test/ui-chapters-subtitles.test.ts, on a real source.
import t from 'tap'
import { chapterEntries, chaptersWebVtt } from '../server/publish/chapters.ts'
import { MediaError, type MediaInfo } from '../server/publish/probe.ts'
import { MAX_CHAPTER_TITLE, MAX_CHAPTERS } from '../server/library/film-metadata.ts'

const probed = (chapters: MediaInfo['chapters']): MediaInfo => ({
  durationSeconds: 7200,
  container: 'matroska,webm',
  sizeBytes: 1,
  audio: [],
  subtitles: [],
  chapters,
  faststart: false
})

t.test('untitled chapters are numbered, long titles cut, times kept to the millisecond', async t => {
  const entries = chapterEntries(
    probed([
      { startSeconds: 0, endSeconds: 61.0004, title: 'Opening' },
      { startSeconds: 61.0004, endSeconds: 120 },
      { startSeconds: 120, endSeconds: 7200, title: 'x'.repeat(MAX_CHAPTER_TITLE + 20) }
    ])
  )
  t.same(
    entries.map(e => [e.startSeconds, e.endSeconds, e.title.length > 20 ? `${e.title.length} chars, ends ${e.title.at(-1)}` : e.title]),
    [
      [0, 61, 'Opening'],
      [61, 120, 'Chapter 2'],
      [120, 7200, `${MAX_CHAPTER_TITLE} chars, ends …`]
    ]
  )
  t.equal(
    chaptersWebVtt(entries.slice(0, 2).map((e, i) => (i === 0 ? { ...e, title: 'A --> B & <C>' } : e))),
    'WEBVTT\n\n00:00:00.000 --> 00:01:01.000\nA --&gt; B &amp; &lt;C&gt;\n\n00:01:01.000 --> 00:02:00.000\nChapter 2\n',
    'a title cannot end the cue or open a tag'
  )
})

t.test('more chapters than a film may list: refused with what to do', async t => {
  const many = Array.from({ length: MAX_CHAPTERS + 1 }, (_, i) => ({ startSeconds: i, endSeconds: i + 1 }))
  t.throws(
    () => chapterEntries(probed(many)),
    new MediaError(
      `the source has ${MAX_CHAPTERS + 1} chapters, more than the ${MAX_CHAPTERS} a film may list: merge them, or drop them (ffmpeg -map_chapters -1)`
    )
  )
  t.equal(chapterEntries(probed(many.slice(1))).length, MAX_CHAPTERS, 'as many as allowed: kept')
})
