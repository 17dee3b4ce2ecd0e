// Help from the parser's own flag definitions (issue 17): every command answers --help and -h with
// every flag it parses, and the README's command table names every flag of every command, read from
// the README itself so that the README and the parser cannot drift apart.
import t from 'tap'
import { COMMAND_DEFINITIONS } from '../server/commands.ts'
import { runCli, spawnCli } from './helpers/daemon-process.ts'
import { readmeCommandRows } from './helpers/readme.ts'

const flagsOf = (name: string): string[] => Object.keys(COMMAND_DEFINITIONS.find(c => c.name === name)?.flags ?? {})
/** `--flag` as a whole word of `text` (so --data-dir does not count for --data). */
const names = (text: string, flag: string): boolean => new RegExp(`--${flag}(?![\\w-])`).test(text)
const missing = (text: string, flags: string[]): string[] => flags.filter(flag => !names(text, flag)).map(flag => `--${flag}`)

t.ok(COMMAND_DEFINITIONS.length >= 9, `the commands were read (${COMMAND_DEFINITIONS.map(c => c.name).join(', ')})`)

t.test('every command answers --help with every flag it parses, and exits 0', async t => {
  for (const definition of COMMAND_DEFINITIONS) {
    const help = await runCli([definition.name, '--help'])
    t.match(help, `seed-one ${definition.name}`, `${definition.name} --help names its usage`)
    t.strictSame(missing(help, flagsOf(definition.name)), [], `${definition.name} --help lists every flag`)
  }
})

t.test('-h anywhere, and `help <command>`, give the same help', async t => {
  const full = await runCli(['start', '--help'])
  t.equal(await runCli(['start', '--port', '1', '-h']), full)
  t.equal(await runCli(['help', 'start']), full)
  for (const flag of ['role', 'p2p-listen', 'replication-factor', 'confirmations', 'registry-poll-ms', 'mdns'])
    t.ok(names(full, flag), `start's help names --${flag} (missing before issue 17)`)
  t.match(full, /--port N +the HTTP port \(default 8080; env SEED_ONE_PORT\)/, 'a flag comes with its default and variable')
})

t.test('`help` names every command and every flag', async t => {
  const overview = await runCli(['help'])
  for (const definition of COMMAND_DEFINITIONS) {
    t.match(overview, new RegExp(`^  ${definition.name} `, 'm'), `help lists ${definition.name}`)
    t.strictSame(missing(overview, flagsOf(definition.name)), [], `help lists ${definition.name}'s flags`)
  }
})

t.test('an unknown flag or command says where the flags are listed, and fails', async t => {
  const unknownFlag = spawnCli(['start', '--no-such-flag'])
  t.equal(await unknownFlag.exited, 1)
  t.match(unknownFlag.output(), /Unknown option '--no-such-flag'\n`seed-one start --help` lists its flags/)
  const unknownCommand = spawnCli(['strat'])
  t.equal(await unknownCommand.exited, 2)
  t.match(unknownCommand.output(), /no command "strat"[^]*seed-one <command> --help/)
})

t.test("the README's command table names every command and every flag it parses", async t => {
  const rows = await readmeCommandRows()
  t.ok(rows.length >= 8, `the table was read (${rows.length} rows)`)
  for (const definition of COMMAND_DEFINITIONS) {
    const row = rows.find(r => r.commands.includes(definition.name))
    if (row === undefined) {
      t.fail(`README's command table has no row for ${definition.name}`)
      continue
    }
    t.strictSame(missing(row.text, flagsOf(definition.name)), [], `README's ${definition.name} row names every flag`)
  }
})
