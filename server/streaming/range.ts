// HTTP Range request header (RFC 9110 §14.1–14.2) for one representation of `size` bytes.
// We serve a single range or the whole file; never multipart/byteranges, which the RFC allows.

export type RangeRequest = { kind: 'full' } | { kind: 'partial'; start: number; end: number } | { kind: 'unsatisfiable' }

// Positions are arbitrarily long digit strings (1*DIGIT), so they are compared as bigints: a huge
// first-pos is unsatisfiable, and a huge last-pos or suffix-length reaches to the end.
type RangeSpec = { first: bigint; last: bigint | undefined } | { suffix: bigint }

const FULL: RangeRequest = Object.freeze({ kind: 'full' })
const INT_RANGE = /^(\d+)-(\d*)$/
const SUFFIX_RANGE = /^-(\d+)$/
const OWS = /^[ \t]+|[ \t]+$/g
// list elements are separated by a comma with optional whitespace around it (RFC 9110 §5.6.1.2)
const LIST_SEPARATOR = /[ \t]*,[ \t]*/

/** One range-spec, or undefined when it is not valid syntax (RFC 9110 §14.1.1). */
function parseSpec(text: string): RangeSpec | undefined {
  const suffix = SUFFIX_RANGE.exec(text)
  if (suffix !== null) return { suffix: BigInt(suffix[1] as string) }
  const range = INT_RANGE.exec(text)
  if (range === null) return undefined
  const first = BigInt(range[1] as string)
  const last = range[2] === '' ? undefined : BigInt(range[2] as string)
  if (last !== undefined && first > last) return undefined
  return { first, last }
}

function resolve(spec: RangeSpec, size: number): { start: number; end: number } | undefined {
  const length = BigInt(size)
  if ('suffix' in spec) {
    if (spec.suffix === 0n || size === 0) return undefined
    return { start: size - Number(spec.suffix < length ? spec.suffix : length), end: size - 1 }
  }
  if (spec.first >= length) return undefined
  return { start: Number(spec.first), end: Number(spec.last === undefined || spec.last >= length ? length - 1n : spec.last) }
}

export function parseRangeHeader(header: string | undefined, size: number): RangeRequest {
  if (!Number.isSafeInteger(size) || size < 0) throw new RangeError(`representation size ${size} is not a non-negative integer`)
  if (header === undefined) return FULL
  const value = header.replace(OWS, '')
  const equals = value.indexOf('=')
  if (equals < 0 || value.slice(0, equals).toLowerCase() !== 'bytes') return FULL
  // A list may hold empty elements, which a recipient ignores (RFC 9110 §5.6.1.2); whitespace is
  // allowed only around commas, so "bytes= 1-2" is not a valid header.
  const elements = value
    .slice(equals + 1)
    .split(LIST_SEPARATOR)
    .filter(element => element !== '')
  const specs = elements.map(parseSpec)
  if (specs.length === 0 || specs.includes(undefined)) return FULL
  const satisfiable = (specs as RangeSpec[]).map(spec => resolve(spec, size)).filter(range => range !== undefined)
  if (satisfiable.length === 0) return { kind: 'unsatisfiable' }
  if (specs.length > 1) return FULL
  return { kind: 'partial', ...(satisfiable[0] as { start: number; end: number }) }
}
