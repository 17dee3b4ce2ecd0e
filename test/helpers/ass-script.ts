// ASS scripts for the tests: a 640×360 script with styles that set italics, bold and a top-left place.

const STYLE_FORMAT =
  'Format: Name, Fontname, Fontsize, PrimaryColour, SecondaryColour, OutlineColour, BackColour, Bold, Italic, Underline, StrikeOut, ScaleX, ScaleY, Spacing, Angle, BorderStyle, Outline, Shadow, Alignment, MarginL, MarginR, MarginV, Encoding'
const style = (name: string, { bold = 0, italic = 0, alignment = 2, margins = [20, 20, 18] } = {}) =>
  `Style: ${name},Arial,20,&H00FFFFFF,&H000000FF,&H00000000,&H00000000,${bold},${italic},0,0,100,100,0,0,1,2,0,${alignment},${margins.join(',')},1`

/** A script of 640×360 with a plain, an italic (Thoughts) and a top-left (Sign) style; `events` are its Dialogue lines. */
export function assScript(events: string[]): string {
  return [
    '[Script Info]',
    'ScriptType: v4.00+',
    'PlayResX: 640',
    'PlayResY: 360',
    '',
    '[V4+ Styles]',
    STYLE_FORMAT,
    style('Default'),
    style('Thoughts', { italic: -1 }),
    style('Sign', { bold: -1, alignment: 7, margins: [32, 20, 36] }),
    '',
    '[Events]',
    'Format: Layer, Start, End, Style, Name, MarginL, MarginR, MarginV, Effect, Text',
    ...events.map(line => `Dialogue: ${line}`),
    ''
  ].join('\r\n')
}

/** Every kind of line the converter handles: plain, italic style, \\an8, \\pos, a positioned style, a drawing. */
export const STYLED_EVENTS = [
  '0,0:00:00.00,0:00:01.50,Default,,0,0,0,,Plain line, with a comma\\Nand a second line',
  '0,0:00:00.50,0:00:02.00,Thoughts,,0,0,0,,A thought {\\i0}said aloud',
  '0,0:00:01.00,0:00:03.00,Default,,0,0,0,,{\\an8}At the top, {\\i1}in italics{\\i0} & <more>',
  '0,0:00:02.00,0:00:03.50,Default,,0,0,0,,{\\pos(160,90)\\an7\\b1}Placed{\\b0} here',
  '0,0:00:02.50,0:00:03.80,Sign,,0,0,0,,{\\fs30\\c&H00FFFF&}SIGN\\nsoft break',
  '0,0:00:03.00,0:00:03.90,Default,,0,0,0,,{\\p1}m 0 0 l 100 0 100 100 0 100{\\p0}'
]
