// No function in server/ runs to 80 lines or more, so each one can be read on one screen (issue 13).
// A function's length is the count of source lines from the line its declaration starts on (after any
// leading comments) to the line of its closing brace, both included, as the TypeScript parser sees them;
// nested functions are measured on their own and also count toward the function around them.
import t from 'tap'
import { readFile, readdir } from 'node:fs/promises'
import path from 'node:path'
import { fileURLToPath } from 'node:url'
import ts from 'typescript'

const MAX_LINES = 80
const repo = fileURLToPath(new URL('..', import.meta.url))
const serverDir = path.join(repo, 'server')
// server/build/ holds generated output, not code anyone edits.
const SKIP = new Set([path.join(serverDir, 'build')])

interface FunctionLength {
  where: string
  lines: number
}

async function sourceFiles(dir: string): Promise<string[]> {
  const found: string[] = []
  for (const entry of await readdir(dir, { withFileTypes: true })) {
    const file = path.join(dir, entry.name)
    if (entry.isDirectory() && !SKIP.has(file)) found.push(...(await sourceFiles(file)))
    else if (entry.isFile() && entry.name.endsWith('.ts') && !entry.name.endsWith('.d.ts')) found.push(file)
  }
  return found
}

function functionName(node: ts.FunctionLikeDeclaration): string {
  if (node.name) return node.name.getText()
  // An anonymous function takes the name it is assigned to or passed as, when there is one.
  const parent = node.parent
  if (ts.isVariableDeclaration(parent) || ts.isPropertyAssignment(parent)) return parent.name.getText()
  if (ts.isCallExpression(parent)) return `<callback of ${parent.expression.getText().slice(0, 40)}>`
  return '<anonymous>'
}

function lengthsIn(file: string, text: string): FunctionLength[] {
  const source = ts.createSourceFile(file, text, ts.ScriptTarget.Latest, true)
  const found: FunctionLength[] = []
  const visit = (node: ts.Node): void => {
    if (ts.isFunctionLike(node) && 'body' in node && node.body) {
      const fn = node as ts.FunctionLikeDeclaration
      const start = source.getLineAndCharacterOfPosition(fn.getStart(source)).line
      const end = source.getLineAndCharacterOfPosition(fn.getEnd()).line
      found.push({ where: `${path.relative(repo, file)}:${start + 1} ${functionName(fn)}`, lines: end - start + 1 })
    }
    ts.forEachChild(node, visit)
  }
  visit(source)
  return found
}

t.test(`every function in server/ is under ${MAX_LINES} lines`, async t => {
  const lengths: FunctionLength[] = []
  for (const file of await sourceFiles(serverDir)) lengths.push(...lengthsIn(file, await readFile(file, 'utf8')))
  lengths.sort((a, b) => b.lines - a.lines)
  t.ok(lengths.length > 500, `measured ${lengths.length} functions`)
  t.comment(
    `five longest: ${lengths
      .slice(0, 5)
      .map(fn => `${fn.lines} ${fn.where}`)
      .join(' · ')}`
  )
  const tooLong = lengths.filter(fn => fn.lines >= MAX_LINES)
  t.same(
    tooLong.map(fn => `${fn.lines} lines: ${fn.where}`),
    [],
    `split these along their seams into named functions or modules of under ${MAX_LINES} lines`
  )
})
