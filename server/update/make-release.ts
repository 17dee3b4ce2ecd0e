// `seed-one release`: a tarball of a release tree and its signed manifest, written side by side.
import { createHash, type KeyObject } from 'node:crypto'
import { createReadStream } from 'node:fs'
import { mkdir, readFile, readdir, rename, rm, stat, writeFile } from 'node:fs/promises'
import path from 'node:path'
import { RELEASE_FORMAT, manifestName, signManifest, tarballName, type ReleaseManifest } from './manifest.ts'
import { packTree } from './release-archive.ts'
import { UI_BUILD_DIR, uiBuildIsCurrent } from '../ui/ui-sources.ts'
import { pathExists } from './path-exists.ts'
import { RELEASE_CLI, SERVER_BUILD_DIR } from './server-build.ts'
import { UpdateError } from './update-error.ts'

/**
 * What a box runs, from a tree whose server and pages are built: the built server (no TypeScript: a box
 * never strips types), the pages' build, the compiled contract with its sources (the artifact's freshness
 * check hashes them) and package.json (the version). Not the sources of the server or the pages.
 */
export async function builtEntries(tree: string): Promise<string[]> {
  const contractSources = (await readdir(path.join(tree, 'contracts'))).filter(name => name.endsWith('.sol'))
  return ['package.json', SERVER_BUILD_DIR, 'ui/build', 'contracts/build', ...contractSources.map(name => `contracts/${name}`)]
}

/**
 * The checkout's production packages (package-lock.json entries not marked dev), outermost folders only.
 * They are the ones installed here: build the release on the box's architecture (arm64) for native modules.
 */
async function productionPackages(checkout: string): Promise<string[]> {
  const lock = JSON.parse(await readFile(path.join(checkout, 'package-lock.json'), 'utf8')) as {
    packages: Record<string, { dev?: boolean }>
  }
  const folders = Object.entries(lock.packages)
    .filter(([name, info]) => name.startsWith('node_modules/') && info.dev !== true)
    .map(([name]) => name)
  const present: string[] = []
  for (const folder of folders) {
    if (folders.some(outer => folder.startsWith(`${outer}/`))) continue
    // optional packages for other platforms are in the lock but not on disk
    if (await pathExists(path.join(checkout, folder))) present.push(folder)
  }
  return present
}

/**
 * The entries of a release made from a checkout (its server built in server/build and its pages in
 * ui/build: a box has no build tools), with its production packages.
 */
export async function checkoutEntries(checkout: string): Promise<string[]> {
  const build = path.join(checkout, 'contracts', 'build', 'FilmToken.json')
  if (!(await pathExists(build))) throw new UpdateError(`${build} is missing: run \`npm run build:contracts\` first`)
  if (!(await uiBuildIsCurrent()))
    throw new UpdateError(`${UI_BUILD_DIR} is missing or older than the UI's sources: run \`npm run build:ui\` first`)
  if (!(await pathExists(path.join(checkout, RELEASE_CLI))))
    throw new UpdateError(`${path.join(checkout, RELEASE_CLI)} is missing: run \`npm run build:server\` first`)
  return [...(await builtEntries(checkout)), 'package-lock.json', ...(await productionPackages(checkout))]
}

async function sha256Of(file: string): Promise<string> {
  const hash = createHash('sha256')
  for await (const chunk of createReadStream(file)) hash.update(chunk)
  return hash.digest('hex')
}

export interface MadeRelease {
  manifest: ReleaseManifest
  manifestFile: string
  tarballFile: string
}

/** Packs `entries` of `tree` (its package.json gives the version) into `outDir` and signs the manifest. A release is never overwritten. */
export async function makeRelease(opts: { tree: string; entries: string[]; privateKey: KeyObject; outDir: string }): Promise<MadeRelease> {
  const { version } = JSON.parse(await readFile(path.join(opts.tree, 'package.json'), 'utf8')) as { version: string }
  const tarballFile = path.join(opts.outDir, tarballName(version))
  const manifestFile = path.join(opts.outDir, manifestName(version))
  await mkdir(opts.outDir, { recursive: true })
  for (const file of [tarballFile, manifestFile]) {
    if (await pathExists(file)) throw new UpdateError(`${file} already exists: a release is never overwritten`)
  }
  const packing = `${tarballFile}.${process.pid}.tmp`
  try {
    await packTree(opts.tree, opts.entries, packing)
    const manifest: ReleaseManifest = {
      format: RELEASE_FORMAT,
      version,
      file: path.basename(tarballFile),
      size: (await stat(packing)).size,
      sha256: await sha256Of(packing),
      created: new Date().toISOString()
    }
    const signed = signManifest(manifest, opts.privateKey)
    await rename(packing, tarballFile)
    await writeFile(manifestFile, signed, { flag: 'wx' })
    return { manifest, manifestFile, tarballFile }
  } finally {
    await rm(packing, { force: true })
  }
}
