// The monitor's flags, light enough for `seed-one help` to read without loading the monitor.
import { withEnv, type CommandDefinition } from '../lib/command-flags.ts'

/** Each flag also reads SEED_ONE_MONITOR_<FLAG> (the monitor's own: SEED_ONE_PORT is a box's). */
export const monitorFlags = withEnv('SEED_ONE_MONITOR_', {
  'data-dir': { type: 'string', value: 'DIR', description: "the monitor's data", default: '.data/monitor' },
  host: { type: 'string', value: 'ADDRESS', description: 'the address HTTP listens on', default: '127.0.0.1' },
  port: { type: 'string', value: 'N', description: 'the HTTP port', default: '8090' },
  'node-timeout-sec': { type: 'string', value: 'N', description: 'a node silent this long is down', default: '900' },
  'retention-days': { type: 'string', value: 'N', description: 'report history kept', default: '30' },
  'node-retention-days': { type: 'string', value: 'N', description: 'a node silent this long leaves the registry', default: '7' },
  admission: {
    type: 'string',
    value: 'allow-list|open',
    description: 'whose reports are taken: the --admit-file list, or any device (a test network)',
    default: 'allow-list'
  },
  'admit-file': {
    type: 'string',
    value: 'FILE',
    description: 'the device ids admitted, one a line (# comments); read again when it changes'
  },
  'challenge-interval-sec': { type: 'string', value: 'N', description: 'mean time between two challenges of a node', default: '3600' },
  'challenge-blocks': {
    type: 'string',
    value: 'N',
    description: 'leaves a node proves it holds in one challenge (at most 64)',
    default: '64'
  },
  'challenge-deadline-ms': {
    type: 'string',
    value: 'MS',
    description: "a challenge's deadline, before the time per leaf",
    default: '2000'
  },
  'challenge-ms-per-block': { type: 'string', value: 'MS', description: 'deadline added per leaf challenged', default: '40' },
  'challenge-checks': {
    type: 'string',
    value: 'N',
    description: 'leaves whose bytes are then fetched and checked against the proofs (at most 8)',
    default: '4'
  },
  'challenge-v1-until': {
    type: 'string',
    value: 'ISO-DATE',
    description: 'until then a box from before challenge v2 is asked the old way rather than failed (docs/SECURITY.md)'
  },
  'min-replicas': { type: 'string', value: 'N', description: 'copies under which a CID is under-replicated', default: '3' },
  'rpc-url': { type: 'string', value: 'URL', description: "the chain's JSON-RPC URL, to count the catalogue's CIDs nobody holds" },
  contract: { type: 'string', value: 'ADDRESS', description: "the FilmToken contract's address (with --rpc-url)" },
  'deployment-block': { type: 'string', value: 'N', description: 'the block the contract was deployed in', default: '0' },
  confirmations: { type: 'string', value: 'N', description: 'blocks on top of a registration before it counts', default: "the chain's" }
})

export const monitorDefinition: CommandDefinition = {
  name: 'monitor',
  summary: "the network's monitor: reports, node registry, challenges; fleet dashboard at /, discovery at /discover",
  flags: monitorFlags
}
