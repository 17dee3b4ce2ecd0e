// The oldest browser engine every page must work in (DESIGN decision 10), stated once as the browserslist
// query in package.json and turned here into the targets of each build tool. Build-time only: the
// packages it imports are devDependencies.
import browserslist from 'browserslist'
import browserslistToEsbuild from 'browserslist-to-esbuild'
import { browserslistToTargets, type Targets } from 'lightningcss'

const checkoutRoot = new URL('../../', import.meta.url).pathname

/** The browserslist query of package.json (e.g. `chrome >= 68`). */
export function floorQuery(): string[] {
  const query = browserslist.loadConfig({ path: checkoutRoot })
  if (!query || query.length === 0) throw new Error(`${checkoutRoot}package.json has no "browserslist" query: the UI floor is not stated`)
  return query
}

/** esbuild's `target` for the floor, e.g. ['chrome68']. */
export function esbuildTarget(query = floorQuery()): string[] {
  return browserslistToEsbuild(query)
}

/** lightningcss's `targets` for the floor. */
export function cssTargets(query = floorQuery()): Targets {
  return browserslistToTargets(browserslist(query))
}
