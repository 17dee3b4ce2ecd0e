// `seed-one buy`, `withdraw`, `retire` and `pair`: their flags, light enough for `seed-one help` to read.
import { daemonFlags } from '../config.ts'
import type { CommandDefinition } from '../lib/command-flags.ts'

const chainFlags = { 'rpc-url': daemonFlags['rpc-url'], contract: daemonFlags.contract } as const

export const buyFlags = {
  ...chainFlags,
  'key-file': {
    type: 'string',
    value: 'FILE',
    description: "a file holding the buyer's private key (0x + 64 hex digits, nothing else; keep it 0600)",
    default: "the devnet's owner account, on the devnet only"
  },
  quantity: { type: 'string', value: 'N', description: 'how many tokens', default: '1' }
} as const

export const withdrawFlags = {
  ...chainFlags,
  'key-file': {
    type: 'string',
    value: 'FILE',
    description: "a file holding the creator's private key (0x + 64 hex digits, nothing else; keep it 0600)",
    default: "the devnet's creator account, on the devnet only"
  }
} as const

/** A creator's command, like withdraw: the creator's key signs (or the admin's). */
export const retireFlags = {
  ...withdrawFlags,
  'key-file': {
    ...withdrawFlags['key-file'],
    description: "a file holding the film's creator's (or the contract admin's) private key (0x + 64 hex digits; keep it 0600)"
  }
} as const

export const pairFlags = {
  url: { type: 'string', value: 'URL', description: 'the Seed One whose TV shows the code', default: 'http://127.0.0.1:8080' },
  'key-file': {
    type: 'string',
    value: 'FILE',
    description: "a file holding the owner's private key (0x + 64 hex digits, nothing else; keep it 0600)",
    default: "the devnet's owner account, on the devnet only"
  }
} as const

export const marketDefinitions: CommandDefinition[] = [
  {
    name: 'buy',
    summary: "buy tokens of a film at the price the contract asks; the wallet's box then fetches and plays it",
    operands: '<token id>',
    flags: buyFlags
  },
  { name: 'withdraw', summary: "withdraw a creator's proceeds from the film contract to the creator's wallet", flags: withdrawFlags },
  {
    name: 'retire',
    summary: 'retire a film from the catalogue: sold no more, the storage network stops keeping it; holders keep theirs',
    operands: '<token id>',
    flags: retireFlags
  },
  {
    name: 'pair',
    summary:
      "sign the code a Seed One's TV shows with the owner's key, as the phone's pairing page does: pairs the box, or signs that TV in",
    operands: '<code>',
    flags: pairFlags
  }
]
