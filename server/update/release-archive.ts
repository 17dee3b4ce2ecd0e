// The release tarball: made from a tree of plain files and folders, checked entry by entry before
// anything is extracted, and extracted into a slot only when every entry stays inside it.
import { create, extract, list, type ReadEntry } from 'tar'
import { rm } from 'node:fs/promises'
import { UpdateError } from './update-error.ts'

/** npm's command shims are symlinks and nothing at run time needs them: they stay out of releases. */
const NPM_BIN = /(^|\/)node_modules\/\.bin(\/|$)/
const PLAIN_TYPES = new Set(['File', 'OldFile', 'ContiguousFile', 'Directory'])

/** Packs `entries` (paths relative to `tree`) into a gzipped tarball; refuses a tree with links. */
export async function packTree(tree: string, entries: string[], outFile: string): Promise<void> {
  const links: string[] = []
  await create(
    {
      gzip: { level: 9 },
      file: outFile,
      cwd: tree,
      portable: true,
      strict: true,
      filter: (entryPath, stat) => {
        if (NPM_BIN.test(entryPath)) return false
        if ('isSymbolicLink' in stat && stat.isSymbolicLink()) links.push(entryPath)
        return true
      }
    },
    entries
  )
  if (links.length > 0) {
    await rm(outFile, { force: true })
    throw new UpdateError(`a release holds plain files and folders only; links found: ${links.slice(0, 5).join(', ')}`)
  }
}

/** Why an entry may not be extracted into a slot, or undefined when it may. */
function entryProblem(entry: ReadEntry): string | undefined {
  const name = entry.path
  if (!PLAIN_TYPES.has(entry.type)) return `${name} is a ${entry.type}: a release holds plain files and folders only`
  if (name === '' || name.startsWith('/') || name.includes('\0')) return `${JSON.stringify(name)} is not a relative path`
  if (name.split('/').includes('..')) return `${name} climbs out of the release folder`
  return undefined
}

/**
 * Reads the whole tarball once and refuses it when any entry is not a plain file or folder inside the
 * release (absolute paths, `..`, links, devices); returns the version its package.json declares.
 */
export async function inspectTarball(file: string): Promise<{ packageVersion: string; entries: number }> {
  const problems: string[] = []
  const packageJson: Buffer[] = []
  let entries = 0
  try {
    await list({
      file,
      strict: true,
      onReadEntry: entry => {
        entries++
        const problem = entryProblem(entry)
        if (problem !== undefined) problems.push(problem)
        if (entry.path.replace(/^\.\//, '') === 'package.json') entry.on('data', (chunk: Buffer) => packageJson.push(chunk))
      }
    })
  } catch (err) {
    throw new UpdateError(`the tarball cannot be read: ${(err as Error).message}`)
  }
  if (problems.length > 0) throw new UpdateError(`the tarball is refused: ${problems.slice(0, 5).join('; ')}`)
  let version: unknown
  try {
    version = (JSON.parse(Buffer.concat(packageJson).toString('utf8')) as { version?: unknown }).version
  } catch {
    throw new UpdateError('the tarball has no readable package.json at its top')
  }
  if (typeof version !== 'string') throw new UpdateError("the tarball's package.json has no version")
  return { packageVersion: version, entries }
}

/** Extracts an inspected tarball into the empty folder `slotDir`, owned by whoever runs this. */
export async function extractTarball(file: string, slotDir: string): Promise<void> {
  await extract({ file, cwd: slotDir, strict: true, preserveOwner: false })
}
