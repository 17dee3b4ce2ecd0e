// Writing WebVTT files (the subtitles converted from ASS, the chapters track).

/** One WebVTT cue: times in seconds, its settings ("" for none) and its text (WebVTT cue text, escaped). */
export interface VttCue {
  start: number
  end: number
  settings: string
  text: string
}

/** Text as WebVTT cue text: &, < and > escaped (which also keeps "-->" out of it). */
export const escapeVtt = (text: string): string => text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;')

/** Seconds as a WebVTT timestamp, hh:mm:ss.ttt. */
export function vttTimestamp(seconds: number): string {
  const ms = Math.round(seconds * 1000)
  const pad = (n: number, width = 2) => String(n).padStart(width, '0')
  return `${pad(Math.floor(ms / 3_600_000))}:${pad(Math.floor(ms / 60_000) % 60)}:${pad(Math.floor(ms / 1000) % 60)}.${pad(ms % 1000, 3)}`
}

/** Cues as a WebVTT file. */
export function writeWebVtt(cues: VttCue[]): string {
  const blocks = cues.map(
    cue => `${vttTimestamp(cue.start)} --> ${vttTimestamp(cue.end)}${cue.settings ? ` ${cue.settings}` : ''}\n${cue.text}`
  )
  return ['WEBVTT', ...blocks].join('\n\n') + '\n'
}
