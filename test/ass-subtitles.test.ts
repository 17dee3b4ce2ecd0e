// ASS/SSA → WebVTT (server/publish/ass-subtitles.ts): italics and bold from styles and overrides, line
// breaks, and positions (style Alignment, \an, SSA's \a, \pos) as cue settings in percent of PlayRes;
// and the same script embedded in an MKV by ffmpeg, extracted and converted by publish's path.
import { execFile } from 'node:child_process'
import { readFile, writeFile } from 'node:fs/promises'
import path from 'node:path'
import { promisify } from 'node:util'
import t from 'tap'
import { assToCues, assToWebVtt, parseAss } from '../server/publish/ass-subtitles.ts'
import { probeMedia } from '../server/publish/probe.ts'
import { extractSubtitleStreamToWebVtt, subtitleFileToWebVtt } from '../server/publish/subtitles.ts'
import { assScript, STYLED_EVENTS } from './helpers/ass-script.ts'

const run = promisify(execFile)

t.test('styled ASS: text with <i>, <b> and line breaks, settings from \\an, \\pos and style alignment', async t => {
  const script = parseAss(assScript(STYLED_EVENTS))
  t.same([script.playResX, script.playResY], [640, 360])
  const cues = assToCues(script)
  t.same(
    cues.map(cue => [cue.start, cue.end, cue.settings, cue.text]),
    [
      [0, 1.5, '', 'Plain line, with a comma\nand a second line'],
      [0.5, 2, '', '<i>A thought </i>said aloud'],
      [1, 3, 'line:5% position:50% align:center', 'At the top, <i>in italics</i> &amp; &lt;more&gt;'],
      // \pos(160,90) of 640×360 with \an7: the box's top-left corner at 25 %, 25 %
      [2, 3.5, 'line:25% position:25% align:left', '<b>Placed</b> here'],
      // style Sign: top left, MarginL 32 of 640, MarginV 36 of 360
      [2.5, 3.8, 'line:10% position:5% align:left', '<b>SIGN\nsoft break</b>']
    ],
    'the drawing (\\p1) is left out; fonts and colours are dropped'
  )
})

t.test('bottom and middle anchors raise the box by its lines; SSA v4 alignment; \\r resets to the style', async t => {
  const cues = assToCues(
    parseAss(
      assScript([
        '0,0:00:00.00,0:00:01.00,Default,,0,0,0,,{\\an3}Bottom right',
        '0,0:00:00.00,0:00:01.00,Default,,0,0,0,,{\\an5}Middle\\Ntwo lines',
        '0,0:00:00.00,0:00:01.00,Default,,0,0,0,,{\\pos(320,342)}Centred at the foot',
        '0,0:00:00.00,0:00:01.00,Thoughts,,0,0,0,,{\\i0}upright {\\r}back to italics'
      ])
    )
  )
  t.same(
    cues.map(cue => [cue.settings, cue.text]),
    [
      ['position:96.88% align:right', 'Bottom right'],
      ['line:44% position:50% align:center', 'Middle\ntwo lines'],
      // 342 of 360 is 95 %, less one line of 6 %
      ['line:89% position:50% align:center', 'Centred at the foot'],
      ['', 'upright <i>back to italics</i>']
    ]
  )
  const ssa = [
    '[Script Info]',
    'ScriptType: v4.00',
    'PlayResX: 384',
    'PlayResY: 288',
    '[V4 Styles]',
    'Format: Name, Fontname, Fontsize, PrimaryColour, SecondaryColour, TertiaryColour, BackColour, Bold, Italic, BorderStyle, Outline, Shadow, Alignment, MarginL, MarginR, MarginV, AlphaLevel, Encoding',
    'Style: Top,Arial,20,16777215,65535,65535,0,0,-1,1,2,0,6,10,10,28,0,0',
    '[Events]',
    'Format: Marked, Start, End, Style, Name, MarginL, MarginR, MarginV, Effect, Text',
    'Dialogue: Marked=0,0:00:01.00,0:00:02.00,Top,,0000,0000,0000,,Top centre in italics',
    'Dialogue: Marked=0,0:00:02.00,0:00:03.00,Top,,0000,0000,0000,,{\\a1}Bottom left'
  ].join('\n')
  t.same(
    assToCues(parseAss(ssa)).map(cue => [cue.settings, cue.text]),
    [
      ['line:9.72% position:50% align:center', '<i>Top centre in italics</i>'],
      ['position:2.6% align:left', '<i>Bottom left</i>']
    ],
    'SSA alignment 6 is top centre (4 + 2), \\a1 bottom left'
  )
})

t.test('an ASS file given to publish and an ASS stream in an MKV both become the same WebVTT', async t => {
  const dir = t.testdir()
  const assFile = path.join(dir, 'styled.ass')
  await writeFile(assFile, assScript(STYLED_EVENTS))
  const expected = assToWebVtt(await readFile(assFile, 'utf8'))
  t.match(expected, /^WEBVTT\n\n00:00:00\.000 --> 00:00:01\.500\nPlain line, with a comma\nand a second line\n\n/)

  const fromFile = path.join(dir, 'from-file.vtt')
  await subtitleFileToWebVtt(assFile, fromFile)
  t.equal(await readFile(fromFile, 'utf8'), expected, '--subtitles styled.ass')

  const mkv = path.join(dir, 'with-ass.mkv')
  await run('ffmpeg', [
    ...['-v', 'error', '-y', '-f', 'lavfi', '-i', 'testsrc2=size=320x180:rate=25:duration=4', '-i', assFile],
    ...['-map', '0:v', '-map', '1:s', '-c:v', 'libx264', '-preset', 'ultrafast', '-c:s', 'copy', '-metadata:s:s:0', 'language=eng', mkv]
  ])
  const info = await probeMedia(mkv)
  t.match(info.subtitles, [{ codec: 'ass', language: 'eng' }])
  const fromStream = path.join(dir, 'from-stream.vtt')
  await extractSubtitleStreamToWebVtt(mkv, info, info.subtitles[0].index, fromStream)
  t.equal(await readFile(fromStream, 'utf8'), expected, 'the embedded stream keeps every override tag through ffmpeg')
})
