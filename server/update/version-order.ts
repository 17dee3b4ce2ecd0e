// Release versions are SemVer 2.0.0 (MAJOR.MINOR.PATCH with an optional pre-release; build metadata is
// not allowed, so two different versions never compare equal).

export const VERSION_PATTERN = '^(0|[1-9]\\d*)\\.(0|[1-9]\\d*)\\.(0|[1-9]\\d*)(?:-([0-9A-Za-z-]+(?:\\.[0-9A-Za-z-]+)*))?$'
const versionRegExp = new RegExp(VERSION_PATTERN)

function parse(version: string): { core: number[]; pre: string[] } {
  const match = versionRegExp.exec(version)
  if (match === null) throw new TypeError(`not a release version: "${version}"`)
  return { core: match.slice(1, 4).map(Number), pre: match[4] === undefined ? [] : match[4].split('.') }
}

function compareIdentifiers(a: string, b: string): number {
  const numeric = /^\d+$/
  if (numeric.test(a) && numeric.test(b)) return Math.sign(Number(a) - Number(b))
  if (numeric.test(a) !== numeric.test(b)) return numeric.test(a) ? -1 : 1
  return a < b ? -1 : a > b ? 1 : 0
}

/** Negative when a precedes b, positive when it follows, 0 when equal (SemVer precedence). */
export function compareVersions(a: string, b: string): number {
  const [x, y] = [parse(a), parse(b)]
  for (let i = 0; i < 3; i++) if (x.core[i] !== y.core[i]) return Math.sign((x.core[i] as number) - (y.core[i] as number))
  // a pre-release precedes its release
  if (x.pre.length === 0 || y.pre.length === 0) return Math.sign(y.pre.length) - Math.sign(x.pre.length)
  for (let i = 0; i < Math.min(x.pre.length, y.pre.length); i++) {
    const order = compareIdentifiers(x.pre[i] as string, y.pre[i] as string)
    if (order !== 0) return order
  }
  return Math.sign(x.pre.length - y.pre.length)
}
