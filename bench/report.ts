// One benchmark's result: printed as one table and kept as its own section of docs/benchmarks.md,
// which holds the latest run of each benchmark beside its goal and the machine it ran on.
import { readFile, writeFile } from 'node:fs/promises'
import os from 'node:os'
import { fileURLToPath } from 'node:url'

const REPORT_FILE = fileURLToPath(new URL('../docs/benchmarks.md', import.meta.url))
const PREAMBLE = `# Benchmarks

The latest run of each benchmark in \`bench/\`, written by the benchmark itself (\`npm run bench\` runs
them all; each section names the command that reruns it alone). Ratios are measured side by side in
one run; absolute figures are context and depend on the machine named in each section.
`

export type Row = Record<string, string | number>

export interface BenchResult {
  /** Stable section id, e.g. `stream`; a rerun replaces that section only. */
  id: string
  title: string
  /** The command that reruns this benchmark alone. */
  command: string
  /** The goal as the issue states it, and whether this run met it. */
  goal: string
  met: boolean | null
  rows: Record<string, Row>
  notes?: string[]
}

export function machineLine(): string {
  const cpus = os.cpus()
  const load = os
    .loadavg()
    .map(l => l.toFixed(2))
    .join(' ')
  return (
    `${cpus[0]?.model ?? 'unknown CPU'}, ${cpus.length} cores, ${(os.totalmem() / 2 ** 30).toFixed(0)} GiB, ` +
    `Linux ${os.release()}, Node ${process.version}, load average ${load}`
  )
}

function markdownTable(rows: Record<string, Row>): string {
  const columns = [...new Set(Object.values(rows).flatMap(row => Object.keys(row)))]
  const lines = [`| | ${columns.join(' | ')} |`, `|---|${columns.map(() => '---:').join('|')}|`]
  for (const [name, row] of Object.entries(rows)) lines.push(`| ${name} | ${columns.map(c => row[c] ?? '').join(' | ')} |`)
  return lines.join('\n')
}

function section(result: BenchResult): string {
  const verdict = result.met == null ? 'not judged' : result.met ? '**met**' : '**not met**'
  return [
    `<!-- bench:${result.id} -->`,
    `## ${result.title}`,
    '',
    `\`${result.command}\` · ${new Date().toISOString().slice(0, 16).replace('T', ' ')} UTC · ${machineLine()}`,
    '',
    `Goal: ${result.goal} · ${verdict}`,
    '',
    markdownTable(result.rows),
    ...(result.notes?.length ? ['', ...result.notes.map(note => `- ${note}`)] : []),
    `<!-- /bench:${result.id} -->`
  ].join('\n')
}

/** Prints the result's table and replaces (or appends) its section in docs/benchmarks.md. */
export async function report(result: BenchResult): Promise<void> {
  console.log(`${result.title} · ${machineLine()}`)
  console.table(result.rows)
  for (const note of result.notes ?? []) console.log(`  ${note}`)
  console.log(`goal: ${result.goal} · ${result.met == null ? 'not judged' : result.met ? 'met' : 'NOT MET'}`)

  const current = await readFile(REPORT_FILE, 'utf8').catch(() => PREAMBLE)
  const marked = new RegExp(`<!-- bench:${result.id} -->[\\s\\S]*?<!-- /bench:${result.id} -->`)
  const next = marked.test(current) ? current.replace(marked, () => section(result)) : `${current.trimEnd()}\n\n${section(result)}\n`
  await writeFile(REPORT_FILE, next)
}

export function median(xs: number[]): number {
  const sorted = xs.toSorted((a, b) => a - b)
  const mid = Math.floor(sorted.length / 2)
  return sorted.length % 2 === 1 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2
}

/** The q-quantile (0..1) by nearest rank. */
export function quantile(xs: number[], q: number): number {
  const sorted = xs.toSorted((a, b) => a - b)
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil(q * sorted.length) - 1))]
}
