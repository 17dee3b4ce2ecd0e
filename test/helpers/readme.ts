// The README as the tests read it, so that what it tells a newcomer is what the code does: its command
// table (test/cli-help.test.ts) and its marked command blocks (test/rack.test.ts).
import { readFile } from 'node:fs/promises'

const README = new URL('../../README.md', import.meta.url)

/** The README's command table: each row's first cell (the commands it covers) and its whole text. */
export async function readmeCommandRows(): Promise<Array<{ commands: string[]; text: string }>> {
  const readme = await readFile(README, 'utf8')
  const table = readme.slice(readme.indexOf('| command | what it does |'))
  const rows = table.split('\n').slice(2)
  return rows
    .slice(
      0,
      rows.findIndex(row => !row.startsWith('|'))
    )
    .map(row => ({
      // `publish <video>`, `release`, `release-key`: the first word of each code span of the first cell
      // cells split at pipes that are not escaped (`create\|list` is one cell)
      commands: [...(row.split(/(?<!\\)\|/)[1] ?? '').matchAll(/`([\w-]+)[^`]*`/g)].map(m => m[1]),
      text: row
    }))
}

/**
 * The fenced code blocks the README marks `<!-- <marker>: <name> -->` (the comment on the line before
 * the block's blank line and fence), by name, in the README's order: the commands as a reader copies them.
 */
export async function readmeMarkedBlocks(marker: string): Promise<Array<{ name: string; script: string }>> {
  const readme = await readFile(README, 'utf8')
  const pattern = new RegExp(`<!-- ${marker}: ([\\w-]+) -->\\n\\n\`\`\`\\w*\\n([^]*?)\\n\`\`\`\\n`, 'g')
  return [...readme.matchAll(pattern)].map(([, name, script]) => ({ name, script }))
}
