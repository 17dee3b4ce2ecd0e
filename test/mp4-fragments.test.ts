// The fragment index of an MP4 read from its front (server/lib/mp4-fragments.ts), on files ffmpeg writes:
// a fragmented one as publish makes renditions (every fragment a moof and its mdat, back to back to the
// end of the media), a faststart one (no index: null), and index boxes this reader refuses.
import t from 'tap'
import { execFile } from 'node:child_process'
import { readFile } from 'node:fs/promises'
import path from 'node:path'
import { promisify } from 'node:util'
import { FRAGMENTED_MP4 } from '../server/publish/normalise.ts'
import { Mp4IndexError, readFragmentIndex, type ReadBytes } from '../server/lib/mp4-fragments.ts'
import { mediaPlaylist } from '../server/streaming/hls-playlists.ts'

const run = promisify(execFile)
const dir = t.testdir()

/** A 5 s clip with a keyframe every 2 s and one AAC track, muxed with `mux`. */
async function clip(name: string, mux: string[]): Promise<Buffer> {
  const file = path.join(dir, name)
  await run('ffmpeg', [
    ...['-v', 'error', '-y', '-f', 'lavfi', '-i', 'testsrc2=size=160x90:rate=25:duration=5', '-f', 'lavfi', '-i', 'sine=duration=5'],
    ...['-c:v', 'libx264', '-preset', 'ultrafast', '-g', '50', '-c:a', 'aac', ...mux, file]
  ])
  return await readFile(file)
}

/** Reads from `bytes`, keeping what was asked. */
function reader(bytes: Buffer, asked: Array<[number, number]> = []): ReadBytes {
  return async (start, end) => {
    asked.push([start, end])
    return bytes.subarray(start, end + 1)
  }
}

const boxType = (bytes: Buffer, at: number) => bytes.toString('latin1', at + 4, at + 8)

t.test('a fragmented MP4: the init segment and each fragment, back to back, 5 s in all', async t => {
  const bytes = await clip('fragmented.mp4', FRAGMENTED_MP4)
  const asked: Array<[number, number]> = []
  const index = await readFragmentIndex(reader(bytes, asked), bytes.length)
  if (index === null) throw new Error('no index found')
  t.same([boxType(bytes, 0), boxType(bytes, bytes.readUInt32BE(0))], ['ftyp', 'moov'])
  t.equal(index.initLength, bytes.readUInt32BE(0) + bytes.readUInt32BE(bytes.readUInt32BE(0)), 'ftyp and moov')
  t.same(
    index.fragments.map(f => f.seconds),
    [2, 2, 1]
  )
  for (const [n, fragment] of index.fragments.entries()) {
    t.equal(boxType(bytes, fragment.offset), 'moof', `fragment ${n} starts with its moof`)
    const mdat = fragment.offset + bytes.readUInt32BE(fragment.offset)
    t.equal(boxType(bytes, mdat), 'mdat')
    t.equal(mdat + bytes.readUInt32BE(mdat), fragment.offset + fragment.length, 'and ends with its mdat')
  }
  const last = index.fragments.at(-1)!
  t.equal(boxType(bytes, last.offset + last.length), 'mfra', 'the last ends where the random access index begins')
  t.same(asked, [[0, 64 * 1024 - 1]], 'one read of the front')

  const playlist = mediaPlaylist(index, '/stream')
  t.match(playlist, `#EXT-X-TARGETDURATION:2\n`)
  t.match(playlist, `#EXT-X-MAP:URI="/stream",BYTERANGE="${index.initLength}@0"\n#EXTINF:2.000,\n#EXT-X-BYTERANGE:`)
})

t.test('a faststart MP4 has no fragment index', async t => {
  const bytes = await clip('faststart.mp4', ['-movflags', '+faststart'])
  t.equal(await readFragmentIndex(reader(bytes), bytes.length), null)
})

t.test('index boxes this reader does not follow are refused, not misread', async t => {
  const bytes = Buffer.from(await clip('refused.mp4', FRAGMENTED_MP4))
  const index = (await readFragmentIndex(reader(bytes), bytes.length))!
  // the first sidx's first reference, marked as pointing to another sidx (reference_type 1)
  let sidx = index.initLength
  while (boxType(bytes, sidx) !== 'sidx') sidx += bytes.readUInt32BE(sidx)
  const version = bytes[sidx + 8]
  const firstReference = sidx + (version === 0 ? 32 : 40)
  const hierarchical = Buffer.from(bytes)
  hierarchical.writeUInt32BE((hierarchical.readUInt32BE(firstReference) | 0x80000000) >>> 0, firstReference)
  await t.rejects(
    readFragmentIndex(reader(hierarchical), hierarchical.length),
    new Mp4IndexError('its sidx points to further sidx boxes, which this reader does not follow')
  )
  // a sidx claiming more bytes than the index may take
  const huge = Buffer.from(bytes)
  huge.writeUInt32BE(8 * 1024 * 1024, sidx)
  await t.rejects(readFragmentIndex(reader(huge), 16 * 1024 * 1024), {
    name: 'Mp4IndexError',
    message: /past the 4194304 bytes read for it/
  })
})
