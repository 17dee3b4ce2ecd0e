// The production build of the daemon (issue 14): esbuild strips the types once, at release time, instead
// of Node at every start, and bundles each entry point with the project's own modules. Packages stay in
// node_modules (external): native modules (classic-level) and the modules Helia imports by computed
// path must load from there. The commands' dynamic imports (server/cli.ts) become separate chunks
// (splitting), so a quick command still loads only what it runs. Build-time only (esbuild is a devDependency).
// Run: npm run build:server [-- --tree <checkout>]; `seed-one release` runs it.
import { rm } from 'node:fs/promises'
import path from 'node:path'
import { parseArgs } from 'node:util'
import { build } from 'esbuild'
import { CHECKOUT_ROOT } from '../lib/checkout-root.ts'
import { SERVER_BUILD_DIR } from './server-build.ts'

/** Every command a box or the updater starts goes through the `seed-one` command. */
const ENTRY_POINTS = { cli: 'server/cli.ts' }

export interface ServerBuild {
  outDir: string
  /** Each output file, relative to the tree, and its size. */
  files: { file: string; bytes: number }[]
}

/** Builds the server of `tree` (default this checkout) into its server/build/, replacing the last build. */
export async function buildServer(tree: string = CHECKOUT_ROOT): Promise<ServerBuild> {
  const outDir = path.join(tree, SERVER_BUILD_DIR)
  await rm(outDir, { recursive: true, force: true })
  const result = await build({
    absWorkingDir: tree,
    entryPoints: Object.entries(ENTRY_POINTS).map(([out, source]) => ({ out, in: path.join(tree, source) })),
    outdir: outDir,
    bundle: true,
    splitting: true,
    format: 'esm',
    platform: 'node',
    target: 'node24',
    packages: 'external',
    // a bundled module is never the process's main module; only an entry would be, and cli.ts does not ask
    define: { 'import.meta.main': 'false' },
    chunkNames: 'chunks/[name]-[hash]',
    sourcemap: 'linked',
    metafile: true,
    logLevel: 'warning'
  })
  const files = Object.entries(result.metafile.outputs)
    .filter(([file]) => file.endsWith('.js'))
    .map(([file, output]) => ({ file, bytes: output.bytes }))
    .sort((a, b) => a.file.localeCompare(b.file))
  return { outDir, files }
}

if (import.meta.main) {
  const { values } = parseArgs({ options: { tree: { type: 'string' } }, strict: true })
  const { files } = await buildServer(values.tree === undefined ? undefined : path.resolve(values.tree))
  for (const { file, bytes } of files) console.log(`${file}: ${bytes} bytes`)
}
