// ASS/SSA subtitles as WebVTT, keeping what a TV can show: italics and bold (<i>, <b>), line breaks
// (\N, \n) and where a line stands. ffmpeg's own WebVTT encoder keeps the styling but drops every
// position; here the ASS alignment (the style's Alignment, \an1–\an9, SSA's \a) and \pos(x,y) become
// WebVTT cue settings (line, position, align) in percent of the script's PlayResX × PlayResY.
// Fonts, colours, borders, karaoke and animation (\t, \fad) have no WebVTT form and are dropped.
import { escapeVtt, writeWebVtt, type VttCue } from './webvtt.ts'

/** A style's part of what the converter keeps. */
interface AssStyle {
  italic: boolean
  bold: boolean
  /** Numpad alignment: 1–3 bottom, 4–6 middle, 7–9 top; left, centre, right in each row. */
  alignment: number
  margins: Margins
}

interface Margins {
  left: number
  right: number
  vertical: number
}

interface AssEvent {
  start: number
  end: number
  style: string
  margins: Margins
  text: string
}

export interface AssScript {
  playResX: number
  playResY: number
  styles: Map<string, AssStyle>
  events: AssEvent[]
}

const DEFAULT_STYLE: AssStyle = { italic: false, bold: false, alignment: 2, margins: { left: 0, right: 0, vertical: 0 } }

/** Reads an ASS (v4+) or SSA (v4) script: its play resolution, styles and dialogue lines. */
export function parseAss(source: string): AssScript {
  const info = new Map<string, string>()
  const styles = new Map<string, AssStyle>()
  const events: AssEvent[] = []
  let section = ''
  let format: string[] = []
  for (const raw of source.replace(/^\uFEFF/, '').split(/\r?\n/)) {
    const line = raw.trim()
    const header = /^\[(.+)\]$/.exec(line)
    if (header !== null) {
      section = header[1].toLowerCase()
      format = []
      continue
    }
    const colon = line.indexOf(':')
    if (colon <= 0 || line.startsWith(';')) continue
    const key = line.slice(0, colon).trim().toLowerCase()
    const value = line.slice(colon + 1).trim()
    if (section === 'script info') info.set(key, value)
    else if (key === 'format') format = value.split(',').map(name => name.trim().toLowerCase())
    else if (key === 'style' && format.length > 0) {
      const fields = fieldsOf(value, format)
      styles.set(fields.get('name') ?? '', styleOf(fields, section === 'v4 styles'))
    } else if (key === 'dialogue' && format.length > 0) events.push(eventOf(fieldsOf(value, format)))
  }
  return { ...playResolution(info), styles, events }
}

/** A Format-ordered line as name → value; the last field (an event's Text) keeps its commas. */
function fieldsOf(value: string, format: string[]): Map<string, string> {
  const parts = value.split(',')
  const fields = new Map<string, string>()
  format.forEach((name, i) => fields.set(name, (i === format.length - 1 ? parts.slice(i).join(',') : (parts[i] ?? '')).trim()))
  return fields
}

const flag = (value: string | undefined): boolean => value !== undefined && value !== '' && Number(value) !== 0
const integer = (value: string | undefined): number => (Number.isFinite(Number(value)) ? Number(value) : 0)

/** SSA's alignment (1–3 bottom, +4 top, +8 middle) as ASS's numpad one. */
function numpadFromSsa(value: number): number {
  const column = value & 3 || 2
  return column + (value & 4 ? 6 : value & 8 ? 3 : 0)
}

function styleOf(fields: Map<string, string>, ssa: boolean): AssStyle {
  const alignment = integer(fields.get('alignment'))
  return {
    italic: flag(fields.get('italic')),
    bold: flag(fields.get('bold')),
    alignment: ssa ? numpadFromSsa(alignment) : alignment >= 1 && alignment <= 9 ? alignment : 2,
    margins: { left: integer(fields.get('marginl')), right: integer(fields.get('marginr')), vertical: integer(fields.get('marginv')) }
  }
}

/** H:MM:SS.cc in seconds. */
function assTime(text: string | undefined): number {
  const match = /^(\d+):(\d{1,2}):(\d{1,2})(?:[.:](\d+))?$/.exec(text ?? '')
  if (match === null) return NaN
  return Number(match[1]) * 3600 + Number(match[2]) * 60 + Number(match[3]) + Number(`0.${match[4] ?? '0'}`)
}

function eventOf(fields: Map<string, string>): AssEvent {
  return {
    start: assTime(fields.get('start')),
    end: assTime(fields.get('end')),
    style: (fields.get('style') ?? '').replace(/^\*/, ''),
    margins: { left: integer(fields.get('marginl')), right: integer(fields.get('marginr')), vertical: integer(fields.get('marginv')) },
    text: fields.get('text') ?? ''
  }
}

/** PlayResX × PlayResY, with libass's defaults when one or both are missing. */
function playResolution(info: Map<string, string>): { playResX: number; playResY: number } {
  const x = integer(info.get('playresx'))
  const y = integer(info.get('playresy'))
  if (x > 0 && y > 0) return { playResX: x, playResY: y }
  if (y > 0) return { playResX: y === 1024 ? 1280 : Math.round((y * 4) / 3), playResY: y }
  if (x > 0) return { playResX: x, playResY: x === 1280 ? 1024 : Math.round((x * 3) / 4) }
  return { playResX: 384, playResY: 288 }
}

/** What a line's override tags set: styling as it runs, and its place (the first \an or \a, and \pos or \move's start). */
interface LineState {
  italic: boolean
  bold: boolean
  drawing: boolean
  alignment?: number
  pos?: { x: number; y: number }
}

/** Applies one override block's tags ({\i1\an8…}) to the state; `styleNamed` resolves \r. */
function applyOverrides(block: string, state: LineState, styleNamed: (name: string) => AssStyle): void {
  // \t(…) animates other tags (and holds backslashes of its own): it has no WebVTT form
  for (const tag of block
    .replace(/\\t\([^)]*\)/g, '')
    .split('\\')
    .slice(1)) {
    let m: RegExpExecArray | null
    if ((m = /^i(\d*)$/.exec(tag)) !== null) state.italic = m[1] === '' ? styleNamed('').italic : m[1] !== '0'
    else if ((m = /^b(\d*)$/.exec(tag)) !== null) state.bold = m[1] === '' ? styleNamed('').bold : m[1] === '1' || Number(m[1]) >= 600
    else if ((m = /^an([1-9])$/.exec(tag)) !== null) state.alignment ??= Number(m[1])
    else if ((m = /^a(\d+)$/.exec(tag)) !== null) state.alignment ??= numpadFromSsa(Number(m[1]))
    else if ((m = /^(?:pos|move)\(\s*([-\d.]+)\s*,\s*([-\d.]+)/.exec(tag)) !== null) state.pos ??= { x: Number(m[1]), y: Number(m[2]) }
    else if ((m = /^p(\d+)$/.exec(tag)) !== null) state.drawing = m[1] !== '0'
    else if ((m = /^r(.*)$/.exec(tag)) !== null) {
      const reset = styleNamed(m[1].trim())
      state.italic = reset.italic
      state.bold = reset.bold
    }
  }
}

/** A dialogue line's text as WebVTT cue text, and the place its tags gave it. */
function cueText(event: AssEvent, style: AssStyle, styleNamed: (name: string) => AssStyle): { text: string; state: LineState } {
  const state: LineState = { italic: style.italic, bold: style.bold, drawing: false }
  let out = ''
  let open: string[] = [] // the tags written and not yet closed, outermost first
  for (const [i, piece] of event.text.split(/\{([^}]*)\}/).entries()) {
    if (i % 2 === 1) {
      applyOverrides(piece, state, styleNamed)
      continue
    }
    const text = escapeVtt(piece.replace(/\\[Nn]/g, '\n').replace(/\\h/g, '\u00a0'))
    if (text === '' || state.drawing) continue
    const wanted = [...(state.bold ? ['b'] : []), ...(state.italic ? ['i'] : [])]
    if (wanted.join() !== open.join()) {
      out +=
        open
          .map(tag => `</${tag}>`)
          .reverse()
          .join('') + wanted.map(tag => `<${tag}>`).join('')
      open = wanted
    }
    out += text
  }
  out += open
    .map(tag => `</${tag}>`)
    .reverse()
    .join('')
  // an empty line would end the cue early in WebVTT
  const lines = out.split('\n').filter(line => line.trim() !== '')
  return { text: lines.join('\n'), state }
}

const percent = (fraction: number): string => `${Math.round(Math.min(1, Math.max(0, fraction)) * 10000) / 100}%`

/**
 * A WebVTT line's height in percent of the video's: browsers draw cue text at 5 % of the video's
 * height with a normal line height (≈ 1.2).
 */
const VTT_LINE_PERCENT = 6

/**
 * WebVTT settings placing a line as ASS would: the anchor point of the text box (its numpad
 * alignment's corner, edge or centre) at \pos(x,y), else at the margins of the alignment's side. The
 * usual place, bottom centre, gets no settings, and the bottom row no `line`, so the browser stacks
 * simultaneous lines there as it does any subtitles.
 *
 * WebVTT would say which edge of the box `line` places (line:90%,end) and `position` (position:10%,line-left),
 * but the TV engines (Chromium 68 and 88, checked) drop a setting that carries that suffix. So `line` gives
 * the box's top, raised by the cue's height for an anchor at its middle or bottom, and `position` carries no
 * suffix: its edge follows `align` (left → line-left, right → line-right), which is the anchor's.
 */
function cueSettings(alignment: number, pos: LineState['pos'], margins: Margins, script: AssScript, lines: number): string {
  const column = (alignment - 1) % 3 // left, centre, right
  const row = Math.floor((alignment - 1) / 3) // bottom, middle, top
  if (pos === undefined && alignment === 2) return ''
  const x = pos !== undefined ? pos.x / script.playResX : [margins.left / script.playResX, 0.5, 1 - margins.right / script.playResX][column]
  const y = pos !== undefined ? pos.y / script.playResY : [undefined, 0.5, margins.vertical / script.playResY][row]
  const raise = ([1, 0.5, 0][row] * lines * VTT_LINE_PERCENT) / 100
  const settings = [
    ...(y !== undefined ? [`line:${percent(y - raise)}`] : []),
    `position:${percent(x)}`,
    `align:${['left', 'center', 'right'][column]}`
  ]
  return settings.join(' ')
}

/** The script's dialogue as WebVTT cues, in time order; lines with no text (drawings, empty) are left out. */
export function assToCues(script: AssScript): VttCue[] {
  const styleNamed = (name: string): AssStyle => script.styles.get(name) ?? script.styles.get('Default') ?? DEFAULT_STYLE
  const cues: VttCue[] = []
  for (const event of script.events) {
    if (!(event.end > event.start)) continue
    const style = styleNamed(event.style)
    const { text, state } = cueText(event, style, name => styleNamed(name === '' ? event.style : name))
    if (text === '') continue
    const margins = {
      left: event.margins.left || style.margins.left,
      right: event.margins.right || style.margins.right,
      vertical: event.margins.vertical || style.margins.vertical
    }
    cues.push({
      start: event.start,
      end: event.end,
      settings: cueSettings(state.alignment ?? style.alignment, state.pos, margins, script, text.split('\n').length),
      text
    })
  }
  return cues.sort((a, b) => a.start - b.start)
}

/** An ASS or SSA script as a WebVTT file. */
export function assToWebVtt(source: string): string {
  return writeWebVtt(assToCues(parseAss(source)))
}
