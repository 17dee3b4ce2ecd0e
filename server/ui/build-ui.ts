// The build of the pages the box and the monitor serve, for the floor in package.json (DESIGN decision 10):
// esbuild bundles each page's modules with Preact and htm into one script the old TV engines parse, and
// lightningcss lowers each stylesheet for the same engines. Build-time only (devDependencies).
// Run: npm run build:ui (skips the work when the build is the sources' own; --force builds anyway). `npm test`
// (before tap), the tests' Chromium helper, `seed-one start|demo|monitor` from a checkout and `seed-one release` run it too.
import { mkdir, readFile, rename, rm, writeFile } from 'node:fs/promises'
import path from 'node:path'
import { gzipSync } from 'node:zlib'
import { build } from 'esbuild'
import { transform } from 'lightningcss'
import { cssTargets, esbuildTarget, floorQuery } from './floor.ts'
import {
  BUILD_INFO_FILE,
  UI_BUILD_DIR,
  UI_SOURCE_DIR,
  readBuildInfo,
  uiBuildIsCurrent,
  uiSourceHash,
  type BuildInfo
} from './ui-sources.ts'

/** Each output file (relative to the build folder) and its source (relative to ui/). */
const SCRIPTS = { 'box/app': 'app.js', 'box/pair': 'pair.js', 'box/hls': 'hls-player.js', 'monitor/app': 'monitor/app.js' }
const STYLESHEETS = {
  'box/theme.css': 'theme.css',
  'box/styles.css': 'styles.css',
  'box/pair.css': 'pair.css',
  'monitor/theme.css': 'theme.css',
  'monitor/styles.css': 'monitor/styles.css'
}
/** Runs before each page's own code: what the floor's engines lack and the bundles call. */
const SHIMS = path.join(UI_SOURCE_DIR, 'engine-shims.js')

async function buildScripts(outDir: string, target: string[]): Promise<string[]> {
  const result = await build({
    entryPoints: Object.entries(SCRIPTS).map(([out, source]) => ({ out, in: path.join(UI_SOURCE_DIR, source) })),
    outdir: outDir,
    bundle: true,
    inject: [SHIMS],
    // a classic script (deferred by the page): no module loader or import map needed at the floor
    format: 'iife',
    target,
    minify: true,
    sourcemap: 'linked',
    metafile: true,
    logLevel: 'silent'
  })
  // the metafile names outputs relative to the working directory
  return Object.keys(result.metafile.outputs)
    .filter(file => file.endsWith('.js'))
    .map(file => path.resolve(file))
}

async function buildStylesheets(outDir: string): Promise<string[]> {
  const targets = cssTargets()
  const written: string[] = []
  for (const [out, source] of Object.entries(STYLESHEETS)) {
    const file = path.join(UI_SOURCE_DIR, source)
    const { code, warnings } = transform({ filename: file, code: await readFile(file), targets, minify: true })
    if (warnings.length > 0) throw new Error(`${file}: ${warnings.map(warning => warning.message).join('; ')}`)
    const outFile = path.join(outDir, out)
    await mkdir(path.dirname(outFile), { recursive: true })
    await writeFile(outFile, code)
    written.push(outFile)
  }
  return written
}

/** Builds every page into a fresh folder, then puts it in place of the old build in one rename. */
export async function buildUi(): Promise<BuildInfo> {
  const sourceHash = await uiSourceHash()
  const staging = `${UI_BUILD_DIR}.tmp-${process.pid}`
  const previous = `${UI_BUILD_DIR}.tmp-${process.pid}-old`
  await rm(staging, { recursive: true, force: true })
  try {
    const target = esbuildTarget()
    const outputs = [...(await buildScripts(staging, target)), ...(await buildStylesheets(staging))]
    const files = await Promise.all(
      outputs.map(async file => {
        const bytes = await readFile(file)
        return { file: path.relative(staging, file), bytes: bytes.length, gzipBytes: gzipSync(bytes, { level: 9 }).length }
      })
    )
    const info: BuildInfo = {
      sourceHash,
      floor: floorQuery(),
      esbuildTarget: target,
      files: files.sort((a, b) => a.file.localeCompare(b.file))
    }
    await writeFile(path.join(staging, path.basename(BUILD_INFO_FILE)), `${JSON.stringify(info, null, 2)}\n`)
    await rename(UI_BUILD_DIR, previous).catch(error => {
      if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw error
    })
    await rename(staging, UI_BUILD_DIR)
    return info
  } finally {
    await rm(staging, { recursive: true, force: true })
    await rm(previous, { recursive: true, force: true })
  }
}

/** Builds when the sources differ from the last build's; says whether it built. */
export async function buildUiIfChanged(): Promise<boolean> {
  if (await uiBuildIsCurrent()) return false
  await buildUi()
  return true
}

if (import.meta.main) {
  const built = process.argv.includes('--force') ? (await buildUi(), true) : await buildUiIfChanged()
  const info = await readBuildInfo()
  for (const { file, bytes, gzipBytes } of info?.files ?? []) console.log(`ui/build/${file}: ${bytes} bytes, ${gzipBytes} gzipped`)
  console.log(`${built ? 'built' : 'up to date'} for ${info?.floor.join(', ')} (esbuild target ${info?.esbuildTarget.join(', ')})`)
}
