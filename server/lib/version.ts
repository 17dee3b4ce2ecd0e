import { readFileSync } from 'node:fs'
import path from 'node:path'
import { CHECKOUT_ROOT } from './checkout-root.ts'

/** The release version, from package.json. */
export const VERSION: string = JSON.parse(readFileSync(path.join(CHECKOUT_ROOT, 'package.json'), 'utf8')).version
