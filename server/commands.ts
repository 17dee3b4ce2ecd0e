// Every `seed-one` command as the parser and help both read it: its flags with their descriptions,
// defaults and variables (server/lib/command-flags.ts). server/cli.ts runs them; the tests read them here.
import { daemonFlags, startDefinition } from './config.ts'
import { commandHelp, overviewHelp, type CommandDefinition } from './lib/command-flags.ts'
import { monitorDefinition } from './monitor/monitor-flags.ts'
import { publishDefinition } from './publish/publish-flags.ts'
import { marketDefinitions } from './market/market-flags.ts'
import { updateDefinitions } from './update/commands.ts'
import { pinningTokenDefinition } from './pinning/token-flags.ts'

/** demo's and devnet's own flags: their port is theirs (SEED_ONE_PORT is the daemon's for devnet). */
export const demoFlags = {
  port: { ...daemonFlags.port, description: 'the HTTP port of the Seed One it starts' },
  host: {
    ...daemonFlags.host,
    description:
      'the address the Seed One listens on (0.0.0.0: every interface, so a phone can open the pairing QR code; the custodian stays on 127.0.0.1)'
  },
  'data-dir': daemonFlags['data-dir']
} as const
export const devnetFlags = {
  port: { type: 'string', value: 'N', description: "the chain's JSON-RPC port", default: '8545' },
  'data-dir': { ...daemonFlags['data-dir'], description: "where the chain's state is kept (under devnet/)" }
} as const

/** Every command, in the order help lists them. */
export const COMMAND_DEFINITIONS: CommandDefinition[] = [
  {
    name: 'demo',
    summary: 'devnet + custodian + demo film + a Seed One paired to a devnet wallet, in one process (npm start)',
    flags: demoFlags
  },
  startDefinition,
  { name: 'devnet', summary: 'the local chain alone, printing its contract and devnet-only accounts', flags: devnetFlags },
  publishDefinition,
  ...marketDefinitions,
  monitorDefinition,
  ...updateDefinitions,
  pinningTokenDefinition
]

const PROGRAM = 'seed-one'

/** `seed-one help [command]`: that command's flags in full, or every command with its flags' names. */
export function help(topic: string | undefined): string {
  const command = COMMAND_DEFINITIONS.find(c => c.name === topic)
  return command !== undefined ? commandHelp(PROGRAM, command) : overviewHelp(PROGRAM, COMMAND_DEFINITIONS)
}
