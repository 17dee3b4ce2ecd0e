// Range header values for fuzzing a stream route, drawn from a seeded generator so a failure reruns
// exactly: valid, overlapping, reversed, huge, negative, non-numeric, many ranges, odd whitespace,
// other units, suffix ranges, empty values, duplicates and random mutations of all of these.

/** A small fast PRNG (a 32-bit xorshift-multiply mix of a counter): uniform in [0, 1). */
export function seededRandom(seed: number): () => number {
  let state = seed >>> 0
  return () => {
    state = (state + 0x9e3779b9) >>> 0
    let z = state
    z = Math.imul(z ^ (z >>> 16), 0x21f0aaad)
    z = Math.imul(z ^ (z >>> 15), 0x735a2d97)
    return ((z ^ (z >>> 15)) >>> 0) / 2 ** 32
  }
}

/** One generated request: the Range field lines to send (none, one, or a duplicated field) and what kind it is. */
export interface RangeCase {
  kind: string
  lines: string[]
  head: boolean
}

export function rangeCases(seed: number, count: number, size: number, boundaries: number[]): RangeCase[] {
  const random = seededRandom(seed)
  const int = (n: number): number => Math.floor(random() * n)
  const pick = <T>(items: readonly T[]): T => items[int(items.length)] as T
  const chance = (p: number): boolean => random() < p

  // positions near chunk and block edges, the ends of the film, and anywhere
  const position = (): number => {
    const roll = random()
    if (roll < 0.4) return Math.min(size - 1, Math.max(0, pick(boundaries) + int(5) - 2))
    if (roll < 0.5) return pick([0, 1, size - 2, size - 1])
    return int(size)
  }
  // mostly short reads (a player's probes and seeks), sometimes long ones
  const length = (): number => (chance(0.98) ? 1 + int(2 ** (1 + int(17))) : 1 + int(size))
  const digits = (n: number): string => Array.from({ length: n }, (_, i) => String(i === 0 ? 1 + int(9) : int(10))).join('')
  const huge = (): string => (chance(0.5) ? String(2 ** 53 + int(1000)) : digits(17 + int(400)))
  const zeros = (): string => '0'.repeat(int(4))
  const ows = (): string => pick(['', '', '', ' ', '\t', '  ', ' \t '])

  // a start from which an open or clamped range stays mostly short
  const nearEnd = (): number => (chance(0.97) ? Math.max(0, size - length()) : position())
  const validRange = (): string => {
    const start = position()
    const end = Math.min(size - 1, start + length() - 1)
    switch (int(5)) {
      case 0:
        return `${nearEnd()}-`
      case 1:
        return `-${chance(0.97) ? length() : pick([1, size, size + 1 + int(1000)])}`
      case 2:
        return `${zeros()}${start}-${zeros()}${end}`
      case 3: {
        const first = nearEnd()
        return `${first}-${first + int(3 * size)}` // the end may be past the film: clamped
      }
      default:
        return `${start}-${end}`
    }
  }
  const outside = (): string => {
    const first = size + pick([0, 1, int(size), 2 ** 31, 2 ** 32])
    return pick([`${first}-`, `${first}-${first + int(100)}`, '-0', `-${zeros()}0`])
  }
  const anySpec = (): string => (chance(0.6) ? validRange() : chance(0.5) ? outside() : pick(junkSpecs)())

  const junkSpecs: (() => string)[] = [
    () => `${position() + 1 + int(100)}-${position() % 100}`, // reversed
    () => `-${int(size)}-${int(size)}`, // negative first
    () => `--${int(size)}`,
    () => `${int(size)}--${int(size)}`,
    () => `+${int(size)}-${int(size)}`,
    () => `0x${int(size).toString(16)}-`,
    () => `${int(size)}.5-${int(size)}`,
    () => `1e${int(7)}-`,
    () => `${int(size)}-${int(size)}-${int(size)}`,
    () => `${int(size)} - ${int(size)}`,
    () => `${int(size)}- ${int(size)}`,
    () => `${huge()}-`,
    () => `${nearEnd()}-${huge()}`,
    () => `-${huge()}`,
    () => `${huge()}-${huge()}`,
    () => pick(['-', '', 'a-b', 'abc', '-a', '1-a', '½-1', 'NaN-', 'Infinity-', '0-Infinity', '1-²']),
    () => `${int(size)}`,
    () => `${int(size)};${int(size)}`
  ]

  const generators: [string, number, () => Pick<RangeCase, 'lines'>][] = [
    ['single valid', 30, () => ({ lines: [`bytes=${validRange()}`] })],
    ['bytes=0-', 1, () => ({ lines: ['bytes=0-'] })],
    ['suffix', 6, () => ({ lines: [`bytes=-${chance(0.85) ? length() : pick([0, 1, 2, size, 2 ** 40])}`] })],
    ['past the end', 6, () => ({ lines: [`bytes=${outside()}`] })],
    ['junk spec', 12, () => ({ lines: [`bytes=${pick(junkSpecs)()}`] })],
    ['several ranges', 8, () => ({ lines: [`bytes=${Array.from({ length: 2 + int(chance(0.8) ? 6 : 200) }, anySpec).join(',')}`] })],
    [
      'overlapping or duplicate ranges',
      4,
      () => {
        const first = validRange()
        return { lines: [`bytes=${first},${chance(0.5) ? first : validRange()}${chance(0.5) ? `,${first}` : ''}`] }
      }
    ],
    ['all ranges past the end', 3, () => ({ lines: [`bytes=${Array.from({ length: 1 + int(5) }, outside).join(', ')}`] })],
    [
      'whitespace',
      8,
      () => {
        const specs = Array.from({ length: 1 + (chance(0.7) ? 0 : int(3)) }, validRange)
        return {
          lines: [
            `${ows()}${pick(['bytes', 'bytes ', 'bytes\t'])}${pick(['=', '= ', ' ='])}${ows()}${specs.join(`${ows()},${ows()}`)}${ows()}`
          ]
        }
      }
    ],
    ['empty elements', 3, () => ({ lines: [`bytes=${pick(['', ',', ', ,'])}${validRange()}${pick(['', ',', ' , ,'])}`] })],
    ['bytes = 1-2', 1, () => ({ lines: [pick(['bytes = 1-2', 'bytes =1-2', 'bytes= 1-2', 'bytes=1-2 ', ' bytes=1-2'])] })],
    [
      'other unit or case',
      6,
      () => ({
        lines: [
          `${pick(['BYTES', 'Bytes', 'bYtEs', 'items', 'byte', 'bytes2', 'none', 'bits', 'b ytes', 'bytes;', '', 'bytés'])}=${validRange()}`
        ]
      })
    ],
    [
      'empty or no range-set',
      3,
      () => ({ lines: [pick(['', ' ', 'bytes', 'bytes=', 'bytes=,', 'bytes=, ,', '=', '=0-1', ',', 'bytes==0-1', '0-1'])] })
    ],
    ['two Range lines', 2, () => ({ lines: [`bytes=${validRange()}`, pick(['', `bytes=${validRange()}`, validRange()])] })],
    ['long header', 1, () => ({ lines: [`bytes=${Array.from({ length: 300 + int(500) }, () => `${int(size)}-`).join(',')}`] })],
    ['mutated', 6, () => ({ lines: [mutate(`bytes=${Array.from({ length: 1 + int(3) }, anySpec).join(',')}`)] })]
  ]
  const totalWeight = generators.reduce((sum, [, weight]) => sum + weight, 0)

  const ALPHABET = '0123456789-,= \tbytesBYTES;:+.xe'
  function mutate(text: string): string {
    let out = text
    for (let n = 1 + int(3); n > 0; n--) {
      const at = int(out.length + 1)
      const c = pick([...ALPHABET])
      out = pick([
        () => out.slice(0, at) + c + out.slice(at),
        () => out.slice(0, at) + out.slice(at + 1),
        () => out.slice(0, at) + c + out.slice(at + 1)
      ])()
    }
    return out
  }

  return Array.from({ length: count }, () => {
    let roll = random() * totalWeight
    const [kind, , generate] = generators.find(([, weight]) => (roll -= weight) < 0) ?? (generators[0] as (typeof generators)[0])
    return { kind, ...generate(), head: chance(0.05) }
  })
}
