// The folder holding package.json: a checkout, or a release's slot. Found from this module's own file so
// that the sources (server/*.ts) and the production build (server/build/*.js, one folder deeper or
// shallower than the module it came from) resolve the files they read at run time the same way.
import { findPackageJSON } from 'node:module'
import path from 'node:path'

const packageJson = findPackageJSON(import.meta.url)
if (packageJson === undefined) throw new Error(`no package.json above ${import.meta.url}`)

export const CHECKOUT_ROOT: string = path.dirname(packageJson)
