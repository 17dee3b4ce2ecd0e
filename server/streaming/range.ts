// HTTP Range request header (RFC 9110 §14.1–14.2) for one representation of `size` bytes.
// We serve a single range or the whole file; never multipart/byteranges, which the RFC allows.

export type RangeRequest = { kind: 'full' } | { kind: 'partial'; start: number; end: number } | { kind: 'unsatisfiable' }

type RangeSpec = { first: number; last: number | undefined } | { suffix: number }

const FULL: RangeRequest = Object.freeze({ kind: 'full' })
const INT_RANGE = /^(\d+)-(\d*)$/
const SUFFIX_RANGE = /^-(\d+)$/
const OWS = /^[ \t]+|[ \t]+$/g

function safeInteger(digits: string): number | undefined {
  const value = Number(digits)
  return Number.isSafeInteger(value) ? value : undefined
}

/** One range-spec, or undefined when it is not valid syntax (RFC 9110 §14.1.1). */
function parseSpec(text: string): RangeSpec | undefined {
  const suffix = SUFFIX_RANGE.exec(text)
  if (suffix !== null) {
    const length = safeInteger(suffix[1] as string)
    return length === undefined ? undefined : { suffix: length }
  }
  const range = INT_RANGE.exec(text)
  if (range === null) return undefined
  const first = safeInteger(range[1] as string)
  const last = range[2] === '' ? undefined : safeInteger(range[2] as string)
  if (first === undefined || (range[2] !== '' && last === undefined)) return undefined
  if (last !== undefined && first > last) return undefined
  return { first, last }
}

function resolve(spec: RangeSpec, size: number): { start: number; end: number } | undefined {
  if ('suffix' in spec) {
    if (spec.suffix === 0 || size === 0) return undefined
    return { start: size - Math.min(spec.suffix, size), end: size - 1 }
  }
  if (spec.first >= size) return undefined
  return { start: spec.first, end: Math.min(spec.last ?? size - 1, size - 1) }
}

export function parseRangeHeader(header: string | undefined, size: number): RangeRequest {
  if (!Number.isSafeInteger(size) || size < 0) throw new RangeError(`representation size ${size} is not a non-negative integer`)
  if (header === undefined) return FULL
  const value = header.replace(OWS, '')
  const equals = value.indexOf('=')
  if (equals < 0 || value.slice(0, equals).toLowerCase() !== 'bytes') return FULL
  // A list may hold empty elements, which a recipient ignores (RFC 9110 §5.6.1.2).
  const elements = value
    .slice(equals + 1)
    .split(',')
    .map(element => element.replace(OWS, ''))
    .filter(element => element !== '')
  const specs = elements.map(parseSpec)
  if (specs.length === 0 || specs.includes(undefined)) return FULL
  const satisfiable = (specs as RangeSpec[]).map(spec => resolve(spec, size)).filter(range => range !== undefined)
  if (satisfiable.length === 0) return { kind: 'unsatisfiable' }
  if (specs.length > 1) return FULL
  return { kind: 'partial', ...(satisfiable[0] as { start: number; end: number }) }
}
