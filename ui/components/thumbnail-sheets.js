// The seek thumbnails' sheets (at most 10×10 tiles each), loaded one at a time as a scrub reaches
// them, the last few kept: a TV decodes one small sheet, never a picture of the whole film.
import { html } from 'htm/preact'
import { useEffect, useLayoutEffect, useRef, useState } from 'preact/hooks'

/** @typedef {import('../api.js').Thumbnails} Thumbnails */

/** Sheets kept loaded: the one shown and those a scrub back and forth over a boundary returns to. */
const KEPT_SHEETS = 3

/**
 * Where the tile that shows the film at `seconds` is: its sheet, and its column and row there.
 * @param {Thumbnails} thumbnails
 * @param {number} seconds
 */
export function tileAt(thumbnails, seconds) {
  const { intervalSec, count, columns, rows } = thumbnails
  const index = Math.min(count - 1, Math.max(0, Math.floor(seconds / intervalSec)))
  const perSheet = columns * rows
  const inSheet = index % perSheet
  return { sheet: Math.floor(index / perSheet), column: inSheet % columns, row: Math.floor(inSheet / columns) }
}

/**
 * The image of sheet `index` once the browser holds it (it is asked for the first time it is wanted),
 * else null. Loaded sheets are kept, the least recently wanted dropped past KEPT_SHEETS.
 * @param {Thumbnails | null} thumbnails
 * @param {number | null} index null when no sheet is wanted
 * @returns {HTMLImageElement | null}
 */
export function useThumbnailSheet(thumbnails, index) {
  const kept = useRef(/** @type {Map<number, { image: HTMLImageElement, ready: boolean }>} */ (new Map()))
  const [, setLoads] = useState(0)
  const url = index === null ? undefined : thumbnails?.sheets[index]?.url
  useEffect(() => {
    if (index === null || url === undefined) return
    const sheets = kept.current
    const known = sheets.get(index)
    sheets.delete(index) // re-added last: the most recently wanted
    if (known) {
      sheets.set(index, known)
      return
    }
    const entry = { image: new Image(), ready: false }
    entry.image.onload = () => {
      entry.ready = true
      setLoads(n => n + 1)
    }
    entry.image.onerror = () => sheets.delete(index) // asked again when next wanted
    entry.image.src = url
    sheets.set(index, entry)
    for (const [oldest, { image }] of sheets) {
      if (sheets.size <= KEPT_SHEETS) break
      image.onload = image.onerror = null
      sheets.delete(oldest)
    }
  }, [index, url])
  useEffect(
    () => () => {
      for (const { image } of kept.current.values()) image.onload = image.onerror = null
    },
    []
  )
  const entry = index === null ? undefined : kept.current.get(index)
  return entry?.ready ? entry.image : null
}

/**
 * The tile of `sheet` at `tile`, drawn on a canvas the tile's size (empty while its sheet loads).
 * @param {{ thumbnails: Thumbnails, tile: ReturnType<typeof tileAt>, sheet: HTMLImageElement | null }} props
 */
export function ThumbnailTile({ thumbnails, tile, sheet }) {
  const canvas = useRef(/** @type {HTMLCanvasElement | null} */ (null))
  useLayoutEffect(() => {
    const context = canvas.current?.getContext('2d')
    if (!context) return
    context.clearRect(0, 0, thumbnails.tileWidth, thumbnails.tileHeight)
    if (!sheet) return
    // the sheet's own size: the last sheet may have fewer rows than a full one
    const width = sheet.naturalWidth / thumbnails.columns
    const height = sheet.naturalHeight / thumbnails.sheets[tile.sheet].rows
    context.drawImage(sheet, tile.column * width, tile.row * height, width, height, 0, 0, thumbnails.tileWidth, thumbnails.tileHeight)
  }, [sheet, tile.sheet, tile.column, tile.row])
  return html`<canvas
    class="seek-preview-frame"
    ref=${canvas}
    width=${thumbnails.tileWidth}
    height=${thumbnails.tileHeight}
    data-sheet=${sheet ? tile.sheet : undefined}
  ></canvas>`
}
