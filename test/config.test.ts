import t from 'tap'
import path from 'node:path'
import { ConfigError, parseDaemonArgs, reachableHost, resolveDaemonConfig, resolvePortAndDataDir } from '../server/config.ts'
import { resolveMonitorConfig } from '../server/monitor/monitor-config.ts'

const chain = ['--rpc-url', 'http://127.0.0.1:8545', '--contract', '0x5FbDB2315678afecb367f032d93F642f64180aa3']
const resolve = (args: string[], env: NodeJS.ProcessEnv = {}) => resolveDaemonConfig(parseDaemonArgs(args).values, env)

t.test('defaults: a player on 127.0.0.1:8080 with its data in ./.data', async t => {
  const config = resolve(chain)
  t.equal(config.port, 8080)
  t.equal(config.host, '127.0.0.1')
  t.equal(config.dataDir, path.resolve('.data'))
  t.same(config.roles, ['player'])
  t.equal(config.chain.confirmations, undefined, 'left to the chain')
  t.same(config.p2pListen, ['/ip4/127.0.0.1/tcp/0'])
})

t.test('flags win over SEED_ONE_* variables, which win over defaults', async t => {
  const env = {
    SEED_ONE_PORT: '9000',
    SEED_ONE_DATA_DIR: '/tmp/from-env',
    SEED_ONE_PEER: '/ip4/127.0.0.1/tcp/1/p2p/a, /ip4/127.0.0.1/tcp/2/p2p/b'
  }
  const fromEnv = resolve(chain, env)
  t.equal(fromEnv.port, 9000)
  t.equal(fromEnv.dataDir, '/tmp/from-env')
  t.same(fromEnv.peers, ['/ip4/127.0.0.1/tcp/1/p2p/a', '/ip4/127.0.0.1/tcp/2/p2p/b'])
  const fromFlags = resolve([...chain, '--port', '9001', '--data-dir', '/tmp/from-flag', '--role', 'custodian', '--role', 'player'], env)
  t.equal(fromFlags.port, 9001)
  t.equal(fromFlags.dataDir, '/tmp/from-flag')
  t.same(fromFlags.roles, ['custodian', 'player'])
  t.equal(fromFlags.publicUrl, 'http://127.0.0.1:9001')
})

t.test('bad values are refused with a message that names the flag', async t => {
  t.throws(() => resolve([]), ConfigError)
  t.throws(() => resolve([...chain, '--port', '80x']), { message: /--port must be a whole number/ })
  t.throws(() => resolve([...chain, '--port', '-1']), { message: /--port/ })
  t.throws(() => resolve([...chain, '--role', 'miner']), { message: /--role must be one of player, custodian, storage/ })
  t.throws(() => resolve(['--rpc-url', 'http://127.0.0.1:8545', '--contract', '0x1234']), { message: /--contract is not an address/ })
  t.throws(() => parseDaemonArgs(['--no-such-flag']), { code: 'ERR_PARSE_ARGS_UNKNOWN_OPTION' })
})

t.test('demo and devnet read --port and --data-dir like the daemon, and refuse a bad port', async t => {
  const env = { SEED_ONE_PORT: '9000', SEED_ONE_DATA_DIR: '/tmp/from-env' }
  t.same(resolvePortAndDataDir({}, { defaultPort: 8080, portFromEnv: true }, env), { port: 9000, dataDir: '/tmp/from-env' })
  t.same(resolvePortAndDataDir({}, { defaultPort: 8545, portFromEnv: false }, env), { port: 8545, dataDir: '/tmp/from-env' })
  t.same(resolvePortAndDataDir({ port: '9001', 'data-dir': 'rel' }, { defaultPort: 8545, portFromEnv: false }, env), {
    port: 9001,
    dataDir: path.resolve('rel')
  })
  t.throws(() => resolvePortAndDataDir({ port: 'abc' }, { defaultPort: 8545, portFromEnv: false }, {}), ConfigError)
  t.throws(() => resolvePortAndDataDir({}, { defaultPort: 8080, portFromEnv: true }, { SEED_ONE_PORT: 'abc' }), {
    message: /--port must be a whole number, got "abc"/
  })
})

t.test('a wildcard host is reached at 127.0.0.1 and opens libp2p on every interface', async t => {
  t.equal(reachableHost('0.0.0.0'), '127.0.0.1')
  t.equal(reachableHost('::'), '127.0.0.1')
  t.equal(reachableHost('192.168.1.20'), '192.168.1.20')
  const config = resolve([...chain, '--host', '0.0.0.0', '--port', '9002'])
  t.equal(config.publicUrl, 'http://127.0.0.1:9002')
  t.same(config.p2pListen, ['/ip4/0.0.0.0/tcp/0'])
})

t.test('a bare port for --p2p-listen listens where the default would; anything else that is no multiaddr names the flag', async t => {
  t.same(resolve([...chain, '--p2p-listen', '4001']).p2pListen, ['/ip4/127.0.0.1/tcp/4001'])
  t.same(resolve([...chain, '--p2p-listen', '4001', '--host', '0.0.0.0']).p2pListen, ['/ip4/0.0.0.0/tcp/4001'])
  t.same(resolve([...chain, '--p2p-listen', '/ip6/::1/tcp/4002']).p2pListen, ['/ip6/::1/tcp/4002'])
  t.throws(() => resolve([...chain, '--p2p-listen', '0.0.0.0:4001']), {
    message: '--p2p-listen takes a libp2p address such as /ip4/0.0.0.0/tcp/4001, or a bare port such as 4001; got "0.0.0.0:4001"'
  })
  t.throws(() => resolve([...chain, '--peer', '/ip4/192.168.1.20/tcp/4001']), {
    message: /^--peer takes a box's libp2p address with its id/
  })
  t.throws(() => resolve(chain, { SEED_ONE_PEER: 'http://192.168.1.20:8080' }), { message: /^--peer takes/ })
})

t.test('a storage node: k defaults to 5 and is at least 3; registry polling; mDNS on unless turned off', async t => {
  const defaults = resolve(chain)
  t.equal(defaults.replicationFactor, 5)
  t.equal(defaults.registryPollMs, 30_000)
  t.equal(defaults.mdns, true)
  const storage = resolve([...chain, '--role', 'storage', '--replication-factor', '3', '--registry-poll-ms', '500', '--mdns', 'off'])
  t.same(storage.roles, ['storage'])
  t.equal(storage.replicationFactor, 3)
  t.equal(storage.registryPollMs, 500)
  t.equal(storage.mdns, false)
  t.equal(resolve(chain, { SEED_ONE_REPLICATION_FACTOR: '7' }).replicationFactor, 7)
  t.throws(() => resolve([...chain, '--replication-factor', '2']), { message: /--replication-factor must be between 3/ })
  t.equal(defaults.minReplicas, 3, 'repair under 3 present copies, as the monitor counts')
  t.equal(resolve([...chain, '--replication-factor', '7', '--min-replicas', '4']).minReplicas, 4)
  t.throws(() => resolve([...chain, '--replication-factor', '3', '--min-replicas', '4']), {
    message: /--min-replicas \(4\) must be at most --replication-factor \(3\)/
  })
  t.throws(() => resolve([...chain, '--mdns', 'yes']), { message: /--mdns must be on or off/ })
})

t.test('the monitor admits by an allow-list unless open admission is asked for; dead nodes go after 7 days', async t => {
  t.throws(() => resolveMonitorConfig([], {}), { name: 'ConfigError', message: /--admit-file/ }, 'no admit file, no open mode: refused')
  t.same(resolveMonitorConfig(['--admit-file', 'rack.txt'], {}).admission, { mode: 'allow-list', admitFile: path.resolve('rack.txt') })
  t.same(resolveMonitorConfig([], { SEED_ONE_MONITOR_ADMISSION: 'open' }).admission, { mode: 'open' })
  t.throws(() => resolveMonitorConfig(['--admission', 'open', '--admit-file', 'rack.txt'], {}), ConfigError, 'open takes no list')
  t.throws(() => resolveMonitorConfig(['--admission', 'any'], {}), { message: /allow-list or open/ })
  const config = resolveMonitorConfig(['--admission', 'open'], {})
  t.equal(config.nodeRetentionMs, 7 * 24 * 60 * 60 * 1000)
  t.equal(resolveMonitorConfig(['--admission', 'open', '--node-retention-days', '2'], {}).nodeRetentionMs, 2 * 24 * 60 * 60 * 1000)
})

t.test('the monitor’s challenge: 64 leaves in 2 s + 40 ms each, 4 checked; old boxes asked the v1 way only until a date', async t => {
  const open = ['--admission', 'open']
  const config = resolveMonitorConfig(open, {})
  t.same(
    [config.challengeBlocks, config.challengeDeadlineMs, config.challengeMsPerBlock, config.challengeChecks, config.challengeV1Until],
    [64, 2000, 40, 4, undefined]
  )
  const until = resolveMonitorConfig([...open, '--challenge-v1-until', '2027-03-01'], {}).challengeV1Until
  t.equal(until?.toISOString(), '2027-03-01T00:00:00.000Z')
  t.equal(resolveMonitorConfig(open, { SEED_ONE_MONITOR_CHALLENGE_BLOCKS: '16' }).challengeBlocks, 16)
  t.throws(() => resolveMonitorConfig([...open, '--challenge-v1-until', 'soon'], {}), { name: 'ConfigError', message: /ISO date/ })
  t.throws(() => resolveMonitorConfig([...open, '--challenge-blocks', '65'], {}), { message: /at most 64 blocks at once/ })
  t.throws(() => resolveMonitorConfig([...open, '--challenge-checks', '9'], {}), { message: /at most 8 blocks/ })
})

t.test("a custodian's creators: --serve-creator, repeatable, or SEED_ONE_SERVE_CREATOR; unset, the creators it published with", async t => {
  const [a, b] = ['0x70997970C51812dc3A010C7d01b50e0d17dc79C8', '0x3C44CdDdB6a900fa2b585dd299e03d12FA4293BC']
  t.equal(resolve([...chain, '--role', 'custodian']).servedCreators, undefined)
  t.same(resolve([...chain, '--serve-creator', a, '--serve-creator', b]).servedCreators, [a, b])
  t.same(resolve(chain, { SEED_ONE_SERVE_CREATOR: `${a}, ${b}` }).servedCreators, [a, b])
  t.throws(() => resolve([...chain, '--serve-creator', 'alice']), { message: /--serve-creator is not an address: "alice"/ })
})
