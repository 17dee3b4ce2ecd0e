// `seed-one pinning-token`: its flags, light enough for `seed-one help` to read.
import { daemonFlags } from '../config.ts'
import type { CommandDefinition } from '../lib/command-flags.ts'

export const pinningTokenFlags = {
  'data-dir': { ...daemonFlags['data-dir'], description: "the running storage daemon's data directory, where its token socket is" },
  name: { type: 'string', value: 'NAME', description: 'create: what the token is for, e.g. "my laptop"' },
  id: { type: 'string', value: 'ID', description: 'revoke: the token to refuse from now on (list shows them)' }
} as const

export const pinningTokenDefinition: CommandDefinition = {
  name: 'pinning-token',
  summary: "make, list or revoke the Pinning Service API's tokens of a storage node, through its socket (as the daemon's user)",
  operands: 'create --name NAME | list | revoke --id ID',
  flags: pinningTokenFlags
}
