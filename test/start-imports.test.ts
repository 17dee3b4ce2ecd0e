// What a box loads when it starts is memory it holds for good (issue 14: ≤ 120 MB resident just started,
// docs/benchmarks.md). These imports cost megabytes for nothing and are easy to write back by habit:
// ethers as ESM (a second copy beside the CommonJS one siwe requires), siwe and @fastify/swagger at
// start (needed at pairing, at a request for the API's description), and node:http as ESM (its
// namespace loads undici). Each is refused here with its way out.
import t from 'tap'
import { readdir, readFile } from 'node:fs/promises'
import path from 'node:path'
import ts from 'typescript'

const SERVER = path.resolve(import.meta.dirname, '../server')

/** Each module refused, the way out, and whether importing it later (`import()`) is refused too. */
const REFUSED: Record<string, { wayOut: string; later: boolean }> = {
  ethers: {
    wayOut: "import its values from server/lib/ethers.ts (one CommonJS copy of ethers); `import type` from 'ethers' is fine",
    later: true
  },
  siwe: { wayOut: 'let server/pairing/owner-authorisation.ts load it at the first message; `import type` is fine', later: false },
  '@fastify/swagger': { wayOut: 'server/openapi/openapi.ts loads it at the first request for the description', later: false },
  'node:http': {
    wayOut: 'use `http` from server/lib/node-http.ts (an ESM import of node:http loads undici); `import type` is fine',
    later: true
  },
  http: {
    wayOut: 'use `http` from server/lib/node-http.ts (an ESM import of node:http loads undici); `import type` is fine',
    later: true
  }
}

async function sourceFiles(dir: string): Promise<string[]> {
  const files: string[] = []
  for (const entry of await readdir(dir, { withFileTypes: true })) {
    const full = path.join(dir, entry.name)
    if (entry.isDirectory() && !(dir === SERVER && entry.name === 'build')) files.push(...(await sourceFiles(full)))
    else if (entry.isFile() && entry.name.endsWith('.ts')) files.push(full)
  }
  return files
}

/** Whether an `import … from` brings in values, not only types. */
function importsValues(node: ts.ImportDeclaration): boolean {
  const clause = node.importClause
  if (clause === undefined) return true // a side-effect import
  if (clause.isTypeOnly) return false
  if (clause.name !== undefined) return true
  const bindings = clause.namedBindings
  if (bindings === undefined || ts.isNamespaceImport(bindings)) return true
  return bindings.elements.some(element => !element.isTypeOnly)
}

/** Every value import (static, re-export or dynamic) of a refused module, as `file: module: the way out`. */
function refusedImports(file: string, source: string): string[] {
  const found: string[] = []
  const refuse = (specifier: ts.Expression | undefined, later = false): void => {
    if (specifier === undefined || !ts.isStringLiteral(specifier) || !(specifier.text in REFUSED)) return
    const { wayOut, later: refusedLater } = REFUSED[specifier.text]
    if (!later || refusedLater) found.push(`server/${path.relative(SERVER, file)} imports ${specifier.text}: ${wayOut}`)
  }
  const visit = (node: ts.Node): void => {
    if (ts.isImportDeclaration(node) && importsValues(node)) refuse(node.moduleSpecifier)
    else if (ts.isExportDeclaration(node) && !node.isTypeOnly) refuse(node.moduleSpecifier)
    else if (ts.isCallExpression(node) && node.expression.kind === ts.SyntaxKind.ImportKeyword) refuse(node.arguments[0], true)
    ts.forEachChild(node, visit)
  }
  visit(ts.createSourceFile(file, source, ts.ScriptTarget.Latest, true))
  return found
}

const files = await sourceFiles(SERVER)
t.ok(files.length > 100, `server/ was read (${files.length} modules)`)

t.test('no module of server/ imports ethers, siwe, @fastify/swagger or node:http when it loads', async t => {
  const found: string[] = []
  for (const file of files) found.push(...refusedImports(file, await readFile(file, 'utf8')))
  t.strictSame(found, [])
})
