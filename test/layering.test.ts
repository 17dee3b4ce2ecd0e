// The layering of server/ (issue 13), checked on every import, static or dynamic, as Tailscale's deptest
// checks a package's dependencies: a rule with its reason, and a failure that names the import breaking it.
// LAYERS is the one table of it, mirrored in README.md's layout section.
import t from 'tap'
import { readdir, readFile } from 'node:fs/promises'
import path from 'node:path'
import ts from 'typescript'

/**
 * The folders of server/ and its root files, lowest first. A module may import modules of its own
 * folder and of folders listed before it, never one listed after: so no two folders import each
 * other, and each can be read and changed knowing only what is above it in this list. A new folder
 * goes in at the rank of what it imports; core/ and roles/ (issue 13) sit above every capability.
 */
const LAYERS = [
  // no domain knowledge: Node, Fastify and the web platform only
  'lib',
  // the box ↔ monitor and box ↔ custodian contracts (paths, schemas, block checks, DAG limits)
  'wire',
  // capabilities: each owns its logic and its routes
  'storage',
  'settings',
  'sealing',
  'chain',
  'identity',
  'http',
  'pairing',
  'keys',
  'config.ts',
  'library',
  'replication',
  // the IPFS Pinning Service API: remote pins on the replicas' machinery, quota and quiet hours
  'pinning',
  'health',
  'streaming',
  'status',
  'appliance',
  'openapi',
  'ui',
  'tv-apps',
  'devnet',
  'publish',
  // buying films and withdrawing proceeds from the command line
  'market',
  'update',
  'monitor',
  // every command's flags, for the parser and help alike
  'commands.ts',
  // the assembly: the components every role shares, then one module per role
  'core',
  'roles',
  // the composition root, and the two programs that start it
  'daemon.ts',
  'demo.ts',
  'cli.ts'
] as const

/** Folders that import nothing but lib/: what every side shares must not pull in any side. */
const LEAVES = new Set(['lib', 'wire'])
/** Where the daemon is assembled; every folder ranked below them is a part, and parts do not import the whole. */
const ASSEMBLY = new Set(['core', 'roles', 'daemon.ts'])
/** The only importers of the composition root inside server/ (benchmarks and tests import it too). */
const STARTERS = new Set(['cli.ts', 'demo.ts'])

const SERVER = path.resolve(import.meta.dirname, '../server')
/** Built output (server/update/build-server.ts), not sources. */
const SKIPPED = new Set(['build'])

interface Import {
  /** Relative to server/. */
  from: string
  to: string
}

/** The layer of a path relative to server/: its first folder, or the root file itself. */
const layerOf = (file: string): string => file.split('/')[0]
const rank = (layer: string): number => (LAYERS as readonly string[]).indexOf(layer)

async function sourceFiles(dir: string): Promise<string[]> {
  const files: string[] = []
  for (const entry of await readdir(dir, { withFileTypes: true })) {
    const full = path.join(dir, entry.name)
    if (entry.isDirectory() && !(dir === SERVER && SKIPPED.has(entry.name))) files.push(...(await sourceFiles(full)))
    else if (entry.isFile() && entry.name.endsWith('.ts')) files.push(full)
  }
  return files
}

/** Every import of one module under server/ by another: `import`, `export … from`, `import()` and `import('…').Type`. */
async function serverImports(): Promise<Import[]> {
  const imports: Import[] = []
  for (const file of await sourceFiles(SERVER)) {
    const { importedFiles } = ts.preProcessFile(await readFile(file, 'utf8'), true, true)
    for (const { fileName } of importedFiles) {
      if (!fileName.startsWith('.')) continue // a package
      const to = path
        .relative(SERVER, path.resolve(path.dirname(file), fileName))
        .split(path.sep)
        .join('/')
      if (to.startsWith('../')) continue // another tree of the repository (contracts/compile.ts)
      imports.push({ from: path.relative(SERVER, file).split(path.sep).join('/'), to })
    }
  }
  return imports
}

const imports = await serverImports()
const across = imports.filter(i => layerOf(i.from) !== layerOf(i.to))
const describe = (i: Import): string => `server/${i.from} imports server/${i.to}`

/** The rule an import across layers breaks, with its reason; undefined when it keeps them all. */
function brokenRule(i: Import): string | undefined {
  const from = layerOf(i.from)
  const to = layerOf(i.to)
  if (LEAVES.has(from) && to !== 'lib') return `${describe(i)}: ${from}/ may import only lib/`
  if (to === 'daemon.ts' && !STARTERS.has(from))
    return `${describe(i)}: only ${[...STARTERS].join(' and ')} start the composition root; give this module an interface of its own`
  if (ASSEMBLY.has(to) && rank(from) < rank(to))
    return `${describe(i)}: a part does not import ${to === 'daemon.ts' ? to : `${to}/`}, which assembles the parts`
  if (rank(from) < rank(to)) return `${describe(i)}: ${from} is listed before ${to} in LAYERS, so it may not import it`
  return undefined
}

/** Every folder cycle, as `a → b → a` with the import behind each step. */
function folderCycles(): string[] {
  const edges = new Map<string, Map<string, Import>>()
  for (const i of across) {
    const next = edges.get(layerOf(i.from)) ?? new Map<string, Import>()
    if (!next.has(layerOf(i.to))) next.set(layerOf(i.to), i)
    edges.set(layerOf(i.from), next)
  }
  // the shortest way back to `start` from each of its targets: one cycle per pair of layers that reach each other
  const pathBack = (from: string, start: string): string[] | undefined => {
    const previous = new Map<string, string>([[from, from]])
    const queue = [from]
    for (let layer = queue.shift(); layer !== undefined; layer = queue.shift()) {
      if (layer === start) {
        const steps = [start]
        while (steps[0] !== from) steps.unshift(previous.get(steps[0]) as string)
        return steps
      }
      for (const next of edges.get(layer)?.keys() ?? [])
        if (!previous.has(next)) {
          previous.set(next, layer)
          queue.push(next)
        }
    }
    return undefined
  }
  const cycles = new Map<string, string>()
  for (const [start, targets] of edges) {
    for (const target of targets.keys()) {
      const back = pathBack(target, start)
      if (back === undefined) continue
      const ring = [start, ...back]
      const key = [...new Set(ring)].sort().join(' ')
      if (cycles.has(key)) continue
      const why = ring.slice(1).map((layer, n) => describe(edges.get(ring[n])?.get(layer) as Import))
      cycles.set(key, `${ring.join(' → ')} (${why.join('; ')})`)
    }
  }
  return [...cycles.values()]
}

t.ok(across.length > 100, `the imports between folders were read (${across.length} of ${imports.length} imports)`)

t.test('no two folders of server/ import each other, directly or round a cycle', async t => {
  t.strictSame(folderCycles(), [])
})

t.test('every folder and root file of server/ has a rank in LAYERS', async t => {
  const entries = await readdir(SERVER, { withFileTypes: true })
  const layers = entries
    .filter(entry => (entry.isDirectory() && !SKIPPED.has(entry.name)) || entry.name.endsWith('.ts'))
    .map(entry => entry.name)
  t.strictSame(
    layers.filter(layer => rank(layer) === -1).map(layer => `server/${layer} is not in LAYERS: add it at the rank of what it imports`),
    []
  )
})

t.test('every import keeps the layering: leaves import only lib/, parts never the assembly, lower never higher', async t => {
  t.strictSame(
    across.map(brokenRule).filter(rule => rule !== undefined),
    []
  )
})
