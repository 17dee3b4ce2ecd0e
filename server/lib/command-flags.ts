// One definition per command-line flag: what the parser accepts (node:util parseArgs) and what help
// says about it come from the same object, so `--help`, `seed-one help` and the parser cannot drift.
import { parseArgs, type ParseArgsOptionsConfig } from 'node:util'

export interface FlagDefinition {
  type: 'string' | 'boolean'
  /** Repeatable: each use adds a value. */
  multiple?: boolean
  /** What the flag sets, in a few words. */
  description: string
  /** The value's placeholder in help, e.g. URL, N, DIR. */
  value?: string
  /** The default help shows; the parser leaves defaults to the command, after the flag's variable. */
  default?: string
  /** The environment variable read when the flag is absent. */
  env?: string
}

export type FlagDefinitions = Record<string, FlagDefinition>

export interface CommandDefinition {
  name: string
  /** One line: what the command does. */
  summary: string
  /** What follows the command besides flags, e.g. `<video>`. */
  operands?: string
  flags: FlagDefinitions
  /** Further lines help prints under the flags. */
  notes?: string[]
}

/** The environment variable of `flag` under `prefix`: SEED_ONE_ + data-dir → SEED_ONE_DATA_DIR. */
export const envName = (prefix: string, flag: string): string => `${prefix}${flag.toUpperCase().replaceAll('-', '_')}`

/** `flags` with each one's variable named `prefix` + its name, for commands whose every flag reads one. */
export function withEnv<const F extends FlagDefinitions>(prefix: string, flags: F): { [K in keyof F]: F[K] & { env: string } } {
  return Object.fromEntries(Object.entries(flags).map(([name, flag]) => [name, { ...flag, env: envName(prefix, name) }])) as {
    [K in keyof F]: F[K] & { env: string }
  }
}

/** The values parsed for these flags: a string, strings for a repeatable flag, true for a switch. */
export type FlagValues<F extends FlagDefinitions> = {
  [K in keyof F]?: F[K] extends { type: 'boolean' } ? boolean : F[K] extends { multiple: true } ? string[] : string
}

/** The options node:util parseArgs takes for these flags (help text and defaults left out). */
export function parserOptions(flags: FlagDefinitions): ParseArgsOptionsConfig {
  return Object.fromEntries(
    Object.entries(flags).map(([name, { type, multiple }]) => [name, multiple === true ? { type, multiple } : { type }])
  )
}

/** `args` parsed strictly against `flags`: an unknown flag, or an operand where none is taken, throws. */
export function parseFlags<F extends FlagDefinitions>(
  flags: F,
  args: string[],
  operands = false
): { values: FlagValues<F>; positionals: string[] } {
  const { values, positionals } = parseArgs({ args, options: parserOptions(flags), allowPositionals: operands, strict: true })
  return { values: values as FlagValues<F>, positionals }
}

/** `--help` or `-h` anywhere before a `--`. */
export function wantsHelp(args: string[]): boolean {
  const end = args.indexOf('--')
  return (end === -1 ? args : args.slice(0, end)).some(arg => arg === '--help' || arg === '-h')
}

function flagLine(name: string, flag: FlagDefinition): string {
  const usage = `--${name}${flag.type === 'string' ? ` ${flag.value ?? 'VALUE'}` : ''}`
  const extras = [
    flag.default !== undefined ? `default ${flag.default}` : undefined,
    flag.multiple === true ? 'repeatable' : undefined,
    flag.env !== undefined ? `env ${flag.env}` : undefined
  ].filter(extra => extra !== undefined)
  return `  ${usage.padEnd(32)} ${flag.description}${extras.length > 0 ? ` (${extras.join('; ')})` : ''}`
}

/** `seed-one <command> --help`: usage, summary, every flag with its default and variable, notes. */
export function commandHelp(program: string, command: CommandDefinition): string {
  const flags = Object.entries(command.flags)
  const usage = [program, command.name, command.operands, flags.length > 0 ? '[options]' : undefined].filter(part => part !== undefined)
  return [
    `${usage.join(' ')}`,
    '',
    `${command.summary}`,
    '',
    'Options:',
    ...flags.map(([name, flag]) => flagLine(name, flag)),
    `  ${'--help, -h'.padEnd(32)} this help`,
    ...(command.notes !== undefined ? ['', ...command.notes] : [])
  ].join('\n')
}

/** `seed-one help`: each command with its summary and the names of its flags. */
export function overviewHelp(program: string, commands: CommandDefinition[]): string {
  const width = Math.max(...commands.map(command => command.name.length)) + 2
  const lines = commands.flatMap(command => {
    const names = Object.keys(command.flags).map(name => `--${name}`)
    return [
      `  ${command.name.padEnd(width)} ${command.summary}`,
      ...(names.length > 0 ? wrap(names, 100 - width - 4).map(line => `  ${''.padEnd(width)}   ${line}`) : [])
    ]
  })
  return [`${program} <command> [options]`, '', ...lines, '', `${program} <command> --help (or -h) shows a command's flags in full.`].join(
    '\n'
  )
}

function wrap(words: string[], width: number): string[] {
  const lines: string[] = []
  for (const word of words) {
    const last = lines.at(-1)
    if (last !== undefined && last.length + word.length + 1 <= width) lines[lines.length - 1] = `${last} ${word}`
    else lines.push(word)
  }
  return lines
}
