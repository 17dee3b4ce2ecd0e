// `seed-one publish`'s flags, light enough for `seed-one help` to read without loading the pipeline.
import { daemonFlags } from '../config.ts'
import type { CommandDefinition } from '../lib/command-flags.ts'
import { CONTENT_CLASSES } from '../library/film-metadata.ts'
import { CIPHER_NAMES, DEFAULT_CIPHER } from '../sealing/format.ts'

/** The daemon's flags publish reads: the custodian's data directory and its chain. */
export const publishFlags = {
  'data-dir': {
    type: 'string',
    value: 'DIR',
    env: daemonFlags['data-dir'].env,
    description:
      "the custodian's data directory, required: the one `start --role custodian` runs on (while it runs, publish hands it the job)"
  },
  'rpc-url': daemonFlags['rpc-url'],
  contract: daemonFlags.contract,
  'deployment-block': daemonFlags['deployment-block'],
  title: { type: 'string', value: 'T', description: "the film's title; required" },
  year: { type: 'string', value: 'YYYY', description: 'its release year' },
  synopsis: { type: 'string', value: 'S', description: 'a paragraph about it' },
  subtitles: { type: 'string', multiple: true, value: 'FILE.srt', description: 'a subtitle track' },
  language: { type: 'string', value: 'CODE', description: "the subtitles' language", default: 'en' },
  'content-class': { type: 'string', value: CONTENT_CLASSES.join('|'), description: 'who may see it', default: 'production' },
  'expires-at': { type: 'string', value: 'ISO-TIME', description: 'when test content expires (test content only)' },
  'price-wei': { type: 'string', value: 'N', description: 'the price of one token in wei' },
  'creator-key-file': {
    type: 'string',
    value: 'FILE',
    description: "a file holding the creator's private key: one line, 0x and 64 hex digits (keep it 0600)",
    default: "the devnet's creator, on the devnet only"
  },
  'custodian-url': {
    type: 'string',
    value: 'URL',
    description: "the custodian's URL boxes ask for keys",
    default: 'SEED_ONE_PUBLIC_URL, else http://127.0.0.1:8080'
  },
  cipher: { type: 'string', value: CIPHER_NAMES.join('|'), description: 'the sealing cipher', default: DEFAULT_CIPHER }
} as const

export const publishDefinition: CommandDefinition = {
  name: 'publish',
  summary: 'publish a film through a custodian (running or stopped) on its data directory: check, prepare, seal, add, register on chain',
  operands: '<video>',
  flags: publishFlags
}
