// What a server must answer to a Range header, read straight from RFC 9110's grammar (§14.1, §14.2,
// lists §5.6.1.2), written apart from server/streaming/range.ts so the two can disagree. Where the RFC
// leaves a choice, the product's documented one: a range-set of several ranges is answered 200 with
// the whole representation (no multipart/byteranges), and an invalid header is ignored (200).

export type Expected = { status: 200 } | { status: 206; start: number; end: number } | { status: 416 }

type Spec = { first: bigint; last?: bigint } | { suffix: bigint }

const TCHAR = /^[!#$%&'*+\-.^_`|~0-9A-Za-z]$/
const isDigit = (c: string | undefined): boolean => c !== undefined && c >= '0' && c <= '9'
const isOws = (c: string | undefined): boolean => c === ' ' || c === '\t'

/**
 * The range-set after "bytes=", as the recipient's list rule reads it:
 *   #range-spec = [ range-spec ] *( OWS "," OWS [ range-spec ] ), at least one range-spec present,
 *   int-range = 1*DIGIT "-" [ 1*DIGIT ], suffix-range = "-" 1*DIGIT.
 * undefined when the text is not of that form.
 */
function parseRangeSet(text: string): Spec[] | undefined {
  const specs: Spec[] = []
  let i = 0
  const digits = (): bigint | undefined => {
    const from = i
    while (isDigit(text[i])) i++
    return i === from ? undefined : BigInt(text.slice(from, i))
  }
  for (;;) {
    if (text[i] === '-') {
      i++
      const suffix = digits()
      if (suffix === undefined) return undefined
      specs.push({ suffix })
    } else if (isDigit(text[i])) {
      const first = digits() as bigint
      if (text[i] !== '-') return undefined
      i++
      const last = digits()
      // "A byte-range-spec is invalid if the last-pos value is present and less than the first-pos."
      if (last !== undefined && last < first) return undefined
      specs.push(last === undefined ? { first } : { first, last })
    }
    while (isOws(text[i])) i++
    if (i === text.length) break
    if (text[i] !== ',') return undefined
    i++
    while (isOws(text[i])) i++
  }
  return specs.length === 0 ? undefined : specs
}

/** The bytes a satisfiable spec selects of a representation of `size` bytes (§14.1.2), else undefined. */
function select(spec: Spec, size: bigint): { start: number; end: number } | undefined {
  if ('suffix' in spec) {
    // satisfiable when the suffix is not zero; the representation here is never empty
    if (spec.suffix === 0n || size === 0n) return undefined
    const length = spec.suffix < size ? spec.suffix : size
    return { start: Number(size - length), end: Number(size - 1n) }
  }
  if (spec.first >= size) return undefined
  const last = spec.last === undefined || spec.last >= size ? size - 1n : spec.last
  return { start: Number(spec.first), end: Number(last) }
}

/** The answer to a GET with this Range field value (as the server received it: lines combined) for `size` bytes. */
export function expectedAnswer(fieldValue: string | undefined, size: number): Expected {
  if (fieldValue === undefined) return { status: 200 }
  // A field value has no leading or trailing whitespace (§5.5).
  const value = fieldValue.replace(/^[ \t]+|[ \t]+$/g, '')
  const equals = value.indexOf('=')
  const unit = equals < 0 ? '' : value.slice(0, equals)
  // ranges-specifier = range-unit "=" range-set; range-unit = token, compared case-insensitively
  if (unit === '' || ![...unit].every(c => TCHAR.test(c))) return { status: 200 }
  // An origin server MUST ignore a Range header field that contains a range unit it does not understand.
  if (unit.toLowerCase() !== 'bytes') return { status: 200 }
  const specs = parseRangeSet(value.slice(equals + 1))
  if (specs === undefined) return { status: 200 } // invalid: a server MAY ignore it
  const selected = specs.map(spec => select(spec, BigInt(size))).filter(range => range !== undefined)
  if (selected.length === 0) return { status: 416 }
  if (specs.length > 1) return { status: 200 } // the product's choice among those the RFC allows
  return { status: 206, ...(selected[0] as { start: number; end: number }) }
}
