// Where the browser pages' sources and their build live, and the hash that says whether the build is
// the one of these sources. Runtime-safe (no build tool imported): a box checks its prebuilt files with it.
import { createHash } from 'node:crypto'
import { readFile, readdir } from 'node:fs/promises'
import path from 'node:path'
import { CHECKOUT_ROOT as checkoutRoot } from '../lib/checkout-root.ts'

export const UI_SOURCE_DIR = path.join(checkoutRoot, 'ui')
/** The build output (gitignored; a release ships it): one folder per server that serves pages. */
export const UI_BUILD_DIR = path.join(UI_SOURCE_DIR, 'build')
/** The files the box serves at '/': the TV UI and the phone's pairing page. */
export const BOX_PAGES_DIR = path.join(UI_BUILD_DIR, 'box')
/** The files the monitor serves at '/': the fleet dashboard. */
export const MONITOR_PAGES_DIR = path.join(UI_BUILD_DIR, 'monitor')
/** Written last by a build: which sources it was made from, and its files' sizes. */
export const BUILD_INFO_FILE = path.join(UI_BUILD_DIR, 'build.json')

export type BuiltFile = { file: string; bytes: number; gzipBytes: number }
export type BuildInfo = { sourceHash: string; floor: string[]; esbuildTarget: string[]; files: BuiltFile[] }

/** The packages whose versions change the build's output: bundled into it, or making it. */
const BUILD_PACKAGES = ['preact', 'htm', 'hls.js', 'esbuild', 'lightningcss', 'browserslist', 'browserslist-to-esbuild']

/**
 * Whatever changes the build's output: the UI's sources, the build code, and from package.json the floor
 * and those packages' versions (pinned exactly), not the rest of it (a release's own version, say).
 */
async function buildInputs(): Promise<{ name: string; content: string | Buffer }[]> {
  const packageJson = JSON.parse(await readFile(path.join(checkoutRoot, 'package.json'), 'utf8')) as {
    browserslist?: unknown
    dependencies?: Record<string, string>
    devDependencies?: Record<string, string>
  }
  const declared = { ...packageJson.dependencies, ...packageJson.devDependencies }
  const settings = { floor: packageJson.browserslist, versions: BUILD_PACKAGES.map(name => `${name}@${declared[name]}`) }
  const sources = (await readdir(UI_SOURCE_DIR, { recursive: true }))
    .filter(name => /\.(js|css)$/.test(name) && !/^build(\/|\.tmp-)/.test(name))
    .map(name => path.join(UI_SOURCE_DIR, name))
  const files = [...sources, ...['server/ui/build-ui.ts', 'server/ui/floor.ts'].map(name => path.join(checkoutRoot, name))].sort()
  return [
    { name: 'package.json', content: JSON.stringify(settings) },
    ...(await Promise.all(files.map(async file => ({ name: path.relative(checkoutRoot, file), content: await readFile(file) }))))
  ]
}

export async function uiSourceHash(): Promise<string> {
  const hash = createHash('sha256')
  for (const { name, content } of await buildInputs()) hash.update(`\0${name}\0`).update(content)
  return hash.digest('hex')
}

/** Whether ui/build is the build of the sources as they are. */
export async function uiBuildIsCurrent(): Promise<boolean> {
  return (await readBuildInfo())?.sourceHash === (await uiSourceHash())
}

/** The last build's info, or undefined when there is none (or a build was cut off before it was written). */
export async function readBuildInfo(): Promise<BuildInfo | undefined> {
  try {
    return JSON.parse(await readFile(BUILD_INFO_FILE, 'utf8')) as BuildInfo
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT' || error instanceof SyntaxError) return undefined
    throw error
  }
}
