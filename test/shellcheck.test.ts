// Every shell script in the repository passes shellcheck: *.sh, files with a sh/bash #! line, and
// pi-gen's sourced fragments (EXPORT_IMAGE), which have neither.
import t from 'tap'
import { execFile } from 'node:child_process'
import { readFile, readdir } from 'node:fs/promises'
import path from 'node:path'
import { fileURLToPath } from 'node:url'
import { promisify } from 'node:util'

const run = promisify(execFile)
const repo = fileURLToPath(new URL('..', import.meta.url))
const SKIP = new Set(['node_modules', '.git', '.tap', 'test-artifacts', 'work'])

async function shellScripts(dir: string): Promise<string[]> {
  const found: string[] = []
  for (const entry of await readdir(dir, { withFileTypes: true })) {
    const file = path.join(dir, entry.name)
    if (entry.isDirectory()) {
      if (!SKIP.has(entry.name)) found.push(...(await shellScripts(file)))
    } else if (entry.isFile()) {
      const firstLine = (await readFile(file)).subarray(0, 80).toString('utf8').split('\n')[0] as string
      if (entry.name.endsWith('.sh') || entry.name === 'EXPORT_IMAGE' || /^#!.*\b(ba)?sh\b/.test(firstLine)) found.push(file)
    }
  }
  return found
}

t.test('shellcheck finds nothing in any shell script', async t => {
  const scripts = await shellScripts(repo)
  const names = scripts.map(file => path.relative(repo, file))
  for (const expected of [
    'scripts/setup.sh',
    'scripts/install.sh',
    'firmware-image/build-overlay.sh',
    'firmware-image/build-image.sh',
    '.ci/run'
  ]) {
    t.ok(names.includes(expected), `${expected} is checked`)
  }
  for (const script of scripts) {
    const result = await run('shellcheck', ['--shell=bash', '--external-sources', script], { cwd: path.dirname(script) }).then(
      () => '',
      (err: { stdout: string }) => err.stdout
    )
    t.equal(result, '', path.relative(repo, script))
  }
})
