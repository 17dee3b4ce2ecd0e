// Compiles the Solidity sources in this directory with solc-js (no compiler downloads) and writes
// contracts/build/FilmToken.json. Skips the work when the sources have not changed.
// Run: npx node contracts/compile.ts [--force]
import { createHash, randomUUID } from 'node:crypto'
import { readFileSync } from 'node:fs'
import { mkdir, readFile, readdir, rename, writeFile } from 'node:fs/promises'
import { createRequire, findPackageJSON } from 'node:module'
import { dirname, join } from 'node:path'
import { fileURLToPath } from 'node:url'

export type FilmTokenArtifact = {
  contractName: string
  abi: readonly object[]
  bytecode: string
  /** sha256 over the .sol sources here, the OpenZeppelin and solc versions and the settings */
  sourceHash: string
  solcVersion: string
}

export class ContractCompileError extends Error {
  constructor(message: string) {
    super(message)
    this.name = 'ContractCompileError'
  }
}

const CONTRACT_NAME = 'FilmToken'
// from package.json's folder, not this file's: the production build bundles this module into server/build/
const CONTRACTS_DIR = join(
  dirname(findPackageJSON(import.meta.url) ?? fileURLToPath(new URL('../package.json', import.meta.url))),
  'contracts'
)
export const FILM_TOKEN_BUILD_FILE = join(CONTRACTS_DIR, 'build', `${CONTRACT_NAME}.json`)

const require = createRequire(import.meta.url)
const SETTINGS = {
  optimizer: { enabled: true, runs: 200 },
  evmVersion: 'cancun',
  outputSelection: { '*': { '*': ['abi', 'evm.bytecode.object'] } }
} as const

type SolcMessage = { severity: 'error' | 'warning' | 'info'; formattedMessage: string }
type SolcOutput = {
  errors?: SolcMessage[]
  contracts?: Record<string, Record<string, { abi: object[]; evm: { bytecode: { object: string } } }>>
}

async function readSources(): Promise<Record<string, { content: string }>> {
  const names = (await readdir(CONTRACTS_DIR)).filter(n => n.endsWith('.sol')).sort()
  const sources: Record<string, { content: string }> = {}
  for (const name of names) sources[name] = { content: await readFile(join(CONTRACTS_DIR, name), 'utf8') }
  return sources
}

function hashSources(sources: Record<string, { content: string }>): string {
  const openZeppelin = (require('@openzeppelin/contracts/package.json') as { version: string }).version
  const solcVersion = (require('solc/package.json') as { version: string }).version
  const hash = createHash('sha256')
  hash.update(JSON.stringify({ openZeppelin, solcVersion, SETTINGS }))
  for (const [name, { content }] of Object.entries(sources)) hash.update(`\0${name}\0${content}`)
  return hash.digest('hex')
}

async function readBuild(): Promise<FilmTokenArtifact | undefined> {
  try {
    return JSON.parse(await readFile(FILM_TOKEN_BUILD_FILE, 'utf8')) as FilmTokenArtifact
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT' || err instanceof SyntaxError) return undefined
    throw err
  }
}

// Resolves `@openzeppelin/...` (and any other package import) from node_modules.
function findImport(path: string): { contents: string } | { error: string } {
  try {
    return { contents: readFileSync(require.resolve(path), 'utf8') }
  } catch {
    return { error: `import not found in node_modules: ${path}` }
  }
}

export type CompiledContract = { abi: object[]; bytecode: string; solcVersion: string }

/** Compiles `contractName` from `sourceName` in `sources` (standard JSON; imports from node_modules). */
export async function compileSolidity(
  sources: Record<string, { content: string }>,
  sourceName: string,
  contractName: string
): Promise<CompiledContract> {
  const { default: solc } = await import('solc')
  const input = { language: 'Solidity', sources, settings: SETTINGS }
  const output = JSON.parse(solc.compile(JSON.stringify(input), { import: findImport })) as SolcOutput
  const messages = output.errors ?? []
  for (const m of messages.filter(m => m.severity === 'warning')) console.warn(m.formattedMessage)
  const errors = messages.filter(m => m.severity === 'error')
  if (errors.length > 0) {
    throw new ContractCompileError(`solc failed:\n${errors.map(m => m.formattedMessage).join('\n')}`)
  }
  const contract = output.contracts?.[sourceName]?.[contractName]
  if (!contract?.evm.bytecode.object) {
    throw new ContractCompileError(`solc produced no bytecode for ${contractName} in ${sourceName}`)
  }
  return { abi: contract.abi, bytecode: `0x${contract.evm.bytecode.object}`, solcVersion: solc.version() as string }
}

/**
 * Returns the FilmToken artifact, compiling and writing the build file only when it is missing
 * or its sourceHash differs from the current sources (or `force` is set).
 */
export async function buildFilmToken(opts: { force?: boolean } = {}): Promise<{ artifact: FilmTokenArtifact; compiled: boolean }> {
  const sources = await readSources()
  const sourceHash = hashSources(sources)
  const existing = await readBuild()
  if (!opts.force && existing?.sourceHash === sourceHash) return { artifact: existing, compiled: false }

  const compiled = await compileSolidity(sources, `${CONTRACT_NAME}.sol`, CONTRACT_NAME)
  const artifact: FilmTokenArtifact = { contractName: CONTRACT_NAME, ...compiled, sourceHash }
  await mkdir(dirname(FILM_TOKEN_BUILD_FILE), { recursive: true })
  // Write then rename, so a concurrent reader never sees half a file.
  const tmp = `${FILM_TOKEN_BUILD_FILE}.${randomUUID()}.tmp`
  await writeFile(tmp, `${JSON.stringify(artifact, null, 2)}\n`)
  await rename(tmp, FILM_TOKEN_BUILD_FILE)
  return { artifact, compiled: true }
}

if (import.meta.main) {
  const started = performance.now()
  const { artifact, compiled } = await buildFilmToken({ force: process.argv.includes('--force') })
  const ms = Math.round(performance.now() - started)
  console.log(
    compiled
      ? `compiled ${artifact.contractName} with solc ${artifact.solcVersion} in ${ms} ms -> ${FILM_TOKEN_BUILD_FILE}`
      : `${artifact.contractName} is up to date (${FILM_TOKEN_BUILD_FILE})`
  )
}
