// The SDR film and the weak-link (low) rendition from one decode of the source, where publish encodes
// both: one ffmpeg run with two outputs instead of two runs that each decode the whole source. For a
// 4K HEVC source the decode and the scale to 1080 lines are a large share of the work: on 3 s of 4K
// 10-bit HEVC PQ (bench/publish-hdr.ts --seconds 3, two runs of each side by side) the one run took
// 9.5 ffmpeg CPU s where the two had taken 12.4 (8.3 + 4.1), -23%; the film's pictures are the same.
import path from 'node:path'
import ffmpeg from 'fluent-ffmpeg'
import { fractionOfFilm, runFfmpeg } from './ffmpeg-run.ts'
import {
  filmOptions,
  FRAGMENTED_MP4,
  h264Options,
  normaliseForDirectPlay,
  planNormalisation,
  SDR_LIMITS,
  sdrPictureFilters,
  sdrPictureSize
} from './normalise.ts'
import type { MediaInfo } from './probe.ts'
import { LOW, lowOptions, renditionPath, wantsLowRendition, type RenditionFile } from './renditions.ts'

/**
 * The film that plays directly (normalise.ts) as `film`, and the renditions made with it: the low one
 * when the film is encoded and the source calls for a low rendition (makeRenditions makes the rest).
 */
export async function makePlayableFilm(
  input: string,
  info: MediaInfo,
  film: string,
  workDir: string,
  onProgress?: (fraction: number) => void
): Promise<{ file: string; renditions: RenditionFile[] }> {
  if (planNormalisation(info).videoCodec === 'libx264' && wantsLowRendition(info)) {
    const low = renditionPath(workDir, 'low')
    await encodeFilmWithLow(input, info, { film, low }, onProgress)
    return { file: film, renditions: [{ role: 'low', file: low }] }
  }
  const { file } = await normaliseForDirectPlay(input, info, film, onProgress)
  return { file, renditions: [] }
}

/**
 * Encodes the SDR film and the low rendition of a source with a video stream in one ffmpeg run, each
 * output with the options it has when made alone (normaliseForDirectPlay, makeRenditions).
 */
export async function encodeFilmWithLow(
  input: string,
  info: MediaInfo,
  out: { film: string; low: string },
  onProgress?: (fraction: number) => void
): Promise<void> {
  const hdr = info.video?.hdr ?? 'sdr'
  // Scaled once to the film's size, then each copy filtered as when made alone (the film's scale is
  // then a no-op). Not the film's tone-mapped picture scaled down: a tone map before the averaging
  // keeps more of the grain: the low rendition of the 4K PQ source came out 52% bigger, to save the
  // low one's tone map (a fifth of the film's pixels), 0.4 of 9 CPU s.
  const graph = [
    `[0:V:0]${sdrPictureSize(hdr)},split[scaled][picture]`,
    `[scaled]${sdrPictureFilters(hdr)}[film]`,
    `[picture]${sdrPictureFilters(hdr, LOW.maxHeight)}[low]`
  ].join(';')
  const command = ffmpeg(input)
    .complexFilter(graph)
    .output(out.film)
    .outputOptions(filmOptions(info, { map: '[film]', options: h264Options(hdr, SDR_LIMITS) }))
    .output(out.low)
    .outputOptions([...lowOptions(info, { map: '[low]', options: h264Options(hdr, LOW) }), ...FRAGMENTED_MP4])
  await runFfmpeg(command, [out.film, out.low], `making the SDR film and the low rendition of ${path.basename(input)}`, {
    onSeconds: onProgress && fractionOfFilm(info.durationSeconds, onProgress)
  })
  onProgress?.(1)
}
