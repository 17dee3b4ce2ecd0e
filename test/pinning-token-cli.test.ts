// A storage-only box (a creator's rack: `--role storage`, no player, so no owner signs in) gets its
// Pinning Service API tokens from `seed-one pinning-token`, run as its own process, through the daemon's
// socket in the data directory: the token it prints pins with @helia/remote-pinning, and once revoked it
// is refused. Nothing on the LAN reaches the token operations, and the socket opens to its owner only.
import t from 'tap'
import { randomBytes } from 'node:crypto'
import { stat } from 'node:fs/promises'
import { generateKeyPair } from '@libp2p/crypto/keys'
import { createRemotePins } from '@helia/remote-pinning'
import { addFile, isPinned } from '../server/storage/content.ts'
import { createStorageNode } from '../server/storage/helia-node.ts'
import { PINNING_API_PREFIX } from '../server/pinning/routes.ts'
import { PINNING_TOKENS_PATH } from '../server/pinning/token-routes.ts'
import { tokenSocketPath } from '../server/pinning/token-socket.ts'
import { runCli } from './helpers/daemon-process.ts'
import { startTestDevnet } from './helpers/devnet.ts'
import { daemonConfig, startTestDaemon, testDir } from './helpers/in-process.ts'

const devnet = await startTestDevnet(t)
const config = { ...daemonConfig(devnet, testDir(t, 'rack'), ['storage']), pinStallMs: 10_000 }
/** Every log line of the box, at debug: a token's secret must be in none. */
const logs: string[] = []
const box = await startTestDaemon(t, config, { logLevel: 'debug', logStream: { write: line => void logs.push(line) } })
const api = `${box.url}${PINNING_API_PREFIX}`

// the creator's own node, made as the box makes its own (see pinning-service.test.ts)
const client = await createStorageNode({
  dataDir: testDir(t, 'client'),
  privateKey: await generateKeyPair('Ed25519'),
  listen: ['/ip4/127.0.0.1/tcp/0'],
  bootstrap: []
})
t.teardown(() => client.close())

const tokenCli = async (...args: string[]): Promise<string> => await runCli(['pinning-token', ...args, '--data-dir', config.dataDir])
const bearer = (secret: string): RequestInit => ({ headers: { authorization: `Bearer ${secret}` } })

let made: { id: string; secret: string } | undefined

t.test('the socket in the data directory opens to its owner only', async t => {
  const socket = await stat(tokenSocketPath(config.dataDir))
  t.ok(socket.isSocket(), `${tokenSocketPath(config.dataDir)} is a unix socket`)
  t.equal((socket.mode & 0o777).toString(8), '600', 'mode 0600')
})

t.test('the CLI makes a token, printed once, that pins through @helia/remote-pinning', async t => {
  const output = await tokenCli('create', '--name', 'creator rack')
  const found = /pinning token (\S+) "creator rack" made .*\n(\S+)\n/.exec(output)
  if (found === null) throw new Error(`no token in the output:\n${output}`)
  made = { id: found[1], secret: found[2] }
  t.pass(`made token ${made.id}`)

  const cid = await addFile(
    client,
    (async function* () {
      yield randomBytes(1024 * 1024 + 300 * 1024)
    })()
  )
  const remote = createRemotePins(client as never, { endpointUrl: api, accessToken: made.secret, pollInterval: 100 })
  for await (const pinned of remote.add(cid, { name: 'rough cut' })) t.equal(`${pinned}`, `${cid}`)
  t.ok(await isPinned(box.helia, cid), 'the rack holds it, fetched from the client')

  const listed = await tokenCli('list')
  t.match(listed, new RegExp(`^${made.id}  \\S+  creator rack$`, 'm'), 'list shows it by id and name')
  t.notOk(listed.includes(made.secret), 'list never shows a secret')
  t.notOk(
    logs.some(line => line.includes(made!.secret)),
    'no log line holds the secret'
  )
})

t.test('the CLI revokes it: the tools that used it are refused', async t => {
  if (made === undefined) throw new Error('no token was made')
  t.equal((await fetch(`${api}/pins`, bearer(made.secret))).status, 200, 'the token works before')
  t.match(await tokenCli('revoke', '--id', made.id), `pinning token ${made.id} revoked`)
  const refused = await fetch(`${api}/pins`, bearer(made.secret))
  t.equal(refused.status, 401)
  t.match(await refused.json(), { error: { reason: 'SEED_PINNING_TOKEN_REFUSED' } }, 'refused as a revoked token')
  const remote = createRemotePins(client as never, { endpointUrl: api, accessToken: made.secret })
  await t.rejects(remote.ls().next(), 'and @helia/remote-pinning is refused')
  t.equal(await tokenCli('list'), 'no pinning tokens\n')
  await t.rejects(tokenCli('revoke', '--id', made.id), /no pinning token has the id .*\(SEED_PINNING_TOKEN_NOT_FOUND\)/)
})

t.test('a LAN client reaches no token operation over TCP', async t => {
  const json = { 'content-type': 'application/json' }
  const attempts: Array<[string, RequestInit]> = [
    [PINNING_TOKENS_PATH, {}],
    [PINNING_TOKENS_PATH, { method: 'POST', headers: json, body: JSON.stringify({ name: 'intruder' }) }],
    [`${PINNING_TOKENS_PATH}/${made?.id ?? 'x'}`, { method: 'DELETE' }]
  ]
  for (const [path, init] of attempts) {
    const response = await fetch(`${box.url}${path}`, init)
    t.equal(response.status, 404, `${init.method ?? 'GET'} ${path}: 404, no such route on a storage-only box`)
    t.notMatch(await response.text(), /secret/)
  }
  t.equal(await tokenCli('list'), 'no pinning tokens\n', 'no token was made')
})

t.test('with the daemon stopped, the CLI says what to do', async t => {
  await box.close()
  await t.rejects(stat(tokenSocketPath(config.dataDir)), { code: 'ENOENT' }, 'the socket goes with the daemon')
  await t.rejects(tokenCli('list'), /no seed-one daemon with the storage role serves .*pinning-tokens\.sock: start it/)
  await t.rejects(runCli(['pinning-token', 'create', '--data-dir', config.dataDir]), /pinning-token create needs --name NAME/)
})
