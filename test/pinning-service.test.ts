// The IPFS Pinning Service API on a storage node, driven the way a creator's tools drive it: a real
// Helia node with @helia/remote-pinning adds content and asks the box to pin it (its own multiaddrs as
// origins, the box's as delegates, all on 127.0.0.1); the listing filters through the spec's own
// client (@ipfs-shipyard/pinning-service-client, which @helia/remote-pinning is built on).
import t from 'tap'
import { createHash, randomBytes } from 'node:crypto'
import { generateKeyPair } from '@libp2p/crypto/keys'
import { createRemotePins } from '@helia/remote-pinning'
import { Configuration, RemotePinningServiceClient, Status, TextMatchingStrategy } from '@ipfs-shipyard/pinning-service-client'
import { CID } from 'multiformats/cid'
import { addBytes, addFile, isPinned } from '../server/storage/content.ts'
import { createStorageNode } from '../server/storage/helia-node.ts'
import { section } from '../server/storage/state-db.ts'
import { PINNING_API_PREFIX } from '../server/pinning/routes.ts'
import { PINNING_TOKENS_PATH } from '../server/pinning/token-routes.ts'
import { devnetWallet, startTestDevnet } from './helpers/devnet.ts'
import { daemonConfig, startTestDaemon, testDir } from './helpers/in-process.ts'
import { signInAsOwner } from './helpers/owner-session.ts'
import { changeSettings, quietAroundNow } from './helpers/settings.ts'
import { waitFor } from './helpers/wait-for.ts'

const devnet = await startTestDevnet(t)
const owner = devnetWallet(t, devnet, devnet.accounts.owner.privateKey)
// the player role too: tokens are made by the owner, signed in as on any other state-changing route
const config = { ...daemonConfig(devnet, testDir(t, 'box'), ['player', 'storage']), pinStallMs: 10_000 }
/** Every log line of the box, at debug: a token's secret must be in none. */
const logs: string[] = []
const box = await startTestDaemon(t, config, { logLevel: 'debug', logStream: { write: line => void logs.push(line) } })
const api = `${box.url}${PINNING_API_PREFIX}`
const { headers: ownerHeaders } = await signInAsOwner(box.url, owner)

// a Helia node of its own, as on a creator's laptop: `import 'helia'` itself cannot load here (its default
// libp2p set pulls @libp2p/tls, whose @peculiar/webcrypto import fails), so it is made as the box makes its own
const client = await createStorageNode({
  dataDir: testDir(t, 'client'),
  privateKey: await generateKeyPair('Ed25519'),
  listen: ['/ip4/127.0.0.1/tcp/0'],
  bootstrap: []
})
t.teardown(() => client.close())

async function makeToken(name: string): Promise<{ id: string; secret: string }> {
  const response = await fetch(`${box.url}${PINNING_TOKENS_PATH}`, {
    method: 'POST',
    headers: { ...ownerHeaders, 'content-type': 'application/json' },
    body: JSON.stringify({ name })
  })
  if (response.status !== 201) throw new Error(`making a token: ${response.status} ${await response.text()}`)
  return (await response.json()) as { id: string; secret: string }
}

const token = await makeToken('creator laptop')
const options = { endpointUrl: api, accessToken: token.secret }
// the client node's own pins stay local; these go to the box
const remote = createRemotePins(client as never, { ...options, pollInterval: 100 })
const spec = new RemotePinningServiceClient(new Configuration(options))

/** A file of `bytes` random bytes, added on the client node only. */
const addOnClient = async (bytes: number): Promise<CID> =>
  await addFile(
    client,
    (async function* () {
      yield randomBytes(bytes)
    })()
  )

/** The Failure body and status of a refused call of the spec's client (it throws the Response). */
async function refusal(call: Promise<unknown>): Promise<{ status: number; reason: string; details: string }> {
  const response = (await call.then(
    () => {
      throw new Error('the call was not refused')
    },
    (err: unknown) => err
  )) as Response
  const body = (await response.json()) as { error: { reason: string; details: string } }
  return { status: response.status, ...body.error }
}

t.test('a CID added on the client is pinned by the box: queued or pinning, then pinned', async t => {
  const cid = await addOnClient(1024 * 1024 + 300 * 1024)
  t.notOk(await isPinned(box.helia, cid), 'the box does not hold it before')
  const created = await spec.pinsPost({ pin: { cid: cid.toString(), name: 'first cut' } })
  t.ok(['queued', 'pinning', 'pinned'].includes(created.status), `answered ${created.status}`)
  t.ok(
    created.delegates.every(d => d.includes(`/p2p/${box.identity.deviceId}`)),
    'the delegates are the box, by its peer id'
  )
  await spec.pinsRequestidDelete({ requestid: created.requestid })

  // the whole round trip through @helia/remote-pinning: pinsPost with origins, dialling delegates, polling
  for await (const pinned of remote.add(cid, { name: 'final cut', metadata: { app: 'seedone-test' } })) t.equal(`${pinned}`, `${cid}`)
  t.ok(await isPinned(box.helia, cid), 'the box holds it, fetched from the client over loopback')
  t.ok(await remote.isPinned(cid), 'and says so')
  const got = await remote.get(cid)
  t.equal(got.status, 'pinned')
  t.same(got.metadata, { app: 'seedone-test' })
})

t.test('listings filter by cid, name, status and meta, newest first', async t => {
  const trailer = await spec.pinsPost({ pin: { cid: (await addOnClient(2000)).toString(), name: 'Trailer', meta: { app: 'other' } } })
  await waitFor('the second pin', async () => (await spec.pinsRequestidGet({ requestid: trailer.requestid })).status === Status.Pinned)
  const pinned = await spec.pinsGet({})
  t.same(
    pinned.results.map(r => r.pin.name),
    ['Trailer', 'final cut'],
    'the pinned ones by default, newest first'
  )
  t.equal((await spec.pinsGet({ name: 'trail', match: TextMatchingStrategy.Ipartial })).count, 1, 'a name matched in part, ignoring case')
  t.equal((await spec.pinsGet({ name: 'trail', match: TextMatchingStrategy.Exact })).count, 0)
  t.equal((await spec.pinsGet({ cid: [pinned.results[1].pin.cid] })).results[0].pin.name, 'final cut', 'by cid')
  t.equal((await spec.pinsGet({ status: [Status.Queued, Status.Failed] })).count, 0, 'none queued or failed')
  t.equal((await spec.pinsGet({ limit: 1 })).results.length, 1, 'a page of one')
  t.equal((await spec.pinsGet({ limit: 1 })).count, 2, 'counting them all')
  t.equal((await spec.pinsGet({ before: pinned.results[0].created })).results[0].pin.name, 'final cut', 'the page before the newest')
  const byMeta = await fetch(`${api}/pins?meta=${encodeURIComponent('{"app":"other"}')}`, {
    headers: { authorization: `Bearer ${token.secret}` }
  })
  t.same(
    ((await byMeta.json()) as { results: Array<{ pin: { name: string } }> }).results.map(r => r.pin.name),
    ['Trailer'],
    'by meta'
  )
})

t.test('replacing a pin makes a new request and removes the old one; deleting unpins', async t => {
  const [old] = (await spec.pinsGet({ name: 'Trailer' })).results
  const next = await addOnClient(3000)
  // quiet hours hold the replacement queued, to see the old pin kept until it is pinned
  await changeSettings(box, s => void (s.replication.quietHours = quietAroundNow()))
  const replaced = await spec.pinsRequestidPost({ requestid: old.requestid, pin: { cid: next.toString(), name: 'Trailer v2' } })
  t.not(replaced.requestid, old.requestid, 'a new request id')
  t.equal((await refusal(spec.pinsRequestidGet({ requestid: old.requestid }))).status, 404, 'the old request is gone')
  t.ok(await isPinned(box.helia, CID.parse(old.pin.cid)), 'the old CID stays pinned while the replacement waits')
  await changeSettings(box, s => void (s.replication.quietHours = null))
  await waitFor(
    'the replacement pinned',
    async () => (await spec.pinsRequestidGet({ requestid: replaced.requestid })).status === Status.Pinned
  )
  t.notOk(await isPinned(box.helia, CID.parse(old.pin.cid)), 'then the old CID is unpinned')

  await remote.rm(next).next()
  t.notOk(await isPinned(box.helia, next), 'deleting through @helia/remote-pinning unpins it')
  t.notOk(await remote.isPinned(next))
})

t.test('the OpenAPI description of the box lists the API from its route schemas', async t => {
  const doc = (await (await fetch(`${box.url}/api/openapi.json`)).json()) as { paths: Record<string, Record<string, any>> }
  t.same(Object.keys(doc.paths[`${PINNING_API_PREFIX}/pins`] ?? {}).sort(), ['get', 'post'])
  t.same(Object.keys(doc.paths[`${PINNING_API_PREFIX}/pins/{requestid}`] ?? {}).sort(), ['delete', 'get', 'post'])
  t.same(doc.paths[`${PINNING_API_PREFIX}/pins`].post.requestBody?.content?.['application/json']?.schema?.required, ['cid'])
})

t.test('a wrong or revoked token is refused with 401', async t => {
  const wrong = new RemotePinningServiceClient(new Configuration({ endpointUrl: api, accessToken: 'not-a-token' }))
  const refused = await refusal(wrong.pinsGet({}))
  t.equal(refused.status, 401)
  t.equal(refused.reason, 'SEED_PINNING_TOKEN_REFUSED')
  t.match(refused.details, /access token the box owner made/)
  t.equal((await fetch(`${api}/pins`)).status, 401, 'no token at all')

  const spare = await makeToken('old laptop')
  const withSpare = new RemotePinningServiceClient(new Configuration({ endpointUrl: api, accessToken: spare.secret }))
  t.equal((await withSpare.pinsGet({})).count, 1, 'every token of the owner sees the box’s pins')
  const listed = (await (await fetch(`${box.url}${PINNING_TOKENS_PATH}`, { headers: ownerHeaders })).json()) as {
    tokens: Array<Record<string, string>>
  }
  t.same(
    listed.tokens.map(tk => tk.name),
    ['creator laptop', 'old laptop']
  )
  t.notOk(JSON.stringify(listed).includes(spare.secret), 'the list never shows a secret')
  const stored = JSON.stringify(await section(box.db, 'pinningTokens').entries())
  t.notOk(stored.includes(spare.secret) || stored.includes(token.secret), 'the state database holds no secret')
  t.ok(stored.includes(createHash('sha256').update(spare.secret).digest('hex')), 'only its hash')
  t.equal((await fetch(`${box.url}${PINNING_TOKENS_PATH}/${spare.id}`, { method: 'DELETE' })).status, 401, 'a guest cannot revoke')
  t.equal((await fetch(`${box.url}${PINNING_TOKENS_PATH}/${spare.id}`, { method: 'DELETE', headers: ownerHeaders })).status, 204)
  t.equal((await refusal(withSpare.pinsGet({}))).status, 401, 'the revoked token is refused')
  t.equal((await spec.pinsGet({})).count, 1, 'the other token still works')
})

t.test('a pin over the quota fails with the reason; a full quota refuses new requests', async t => {
  const used = (await spec.pinsGet({})).results.length
  t.ok(used > 0)
  const held = Number((await spec.pinsGet({})).results.reduce((sum, r) => sum + Number(r.info?.dag_size ?? 0), 0))
  await changeSettings(box, s => void (s.storageQuotaBytes = held + 100_000))
  const big = await addOnClient(200_000)
  await t.rejects(remote.add(big).next(), { name: 'PinningFailedError' }, '@helia/remote-pinning sees it fail')
  const [failed] = (await spec.pinsGet({ cid: [big.toString()], status: [Status.Failed] })).results
  t.match(failed.info?.status_details, /holds 200000 bytes and the storage quota has \d+ left: raise the quota/)
  t.notOk(await isPinned(box.helia, big), 'nothing of it pinned')

  await changeSettings(box, s => void (s.storageQuotaBytes = held))
  const refused = await refusal(spec.pinsPost({ pin: { cid: big.toString() } }))
  t.equal(refused.status, 409)
  t.equal(refused.reason, 'SEED_QUOTA_EXCEEDED')
  t.match(refused.details, /quota is used up/)
  await changeSettings(box, s => void (s.storageQuotaBytes = 50 * 1024 ** 3))
})

t.test('in quiet hours a pin stays queued, and goes on when they end', async t => {
  await changeSettings(box, s => void (s.replication.quietHours = quietAroundNow()))
  const cid = await addOnClient(5000)
  const created = await spec.pinsPost({ pin: { cid: cid.toString(), name: 'at night' } })
  t.equal(created.status, 'queued')
  // the queue is looked at when a request comes in: give that look time to happen, then see it waited
  await new Promise(resolve => setTimeout(resolve, 1000))
  t.equal((await spec.pinsRequestidGet({ requestid: created.requestid })).status, Status.Queued, 'still queued')
  t.notOk(await isPinned(box.helia, cid))
  await changeSettings(box, s => void (s.replication.quietHours = null))
  await waitFor(
    'the pin after quiet hours',
    async () => (await spec.pinsRequestidGet({ requestid: created.requestid })).status === Status.Pinned
  )
  t.ok(await isPinned(box.helia, cid))
})

t.test('content on a node the box never met is fetched from the origins the request names', async t => {
  const stranger = await createStorageNode({
    dataDir: testDir(t, 'stranger'),
    privateKey: await generateKeyPair('Ed25519'),
    listen: ['/ip4/127.0.0.1/tcp/0'],
    bootstrap: []
  })
  t.teardown(() => stranger.close())
  const cid = await addBytes(stranger, randomBytes(6000))
  const origins = stranger.libp2p.getMultiaddrs().map(String)
  t.notOk(
    box.helia.libp2p.getPeers().some(peer => peer.equals(stranger.libp2p.peerId)),
    'the box is not connected to it'
  )
  const created = await spec.pinsPost({ pin: { cid: cid.toString(), name: 'from a stranger', origins } })
  t.same(created.pin.origins, origins, 'the origins are kept with the pin')
  await waitFor(
    'the pin from the origin',
    async () => (await spec.pinsRequestidGet({ requestid: created.requestid })).status === Status.Pinned
  )
  t.ok(await isPinned(box.helia, cid))
})

t.test('requests and tokens outlive a restart: one queued before it is pinned after it', async t => {
  await changeSettings(box, s => void (s.replication.quietHours = quietAroundNow()))
  const cid = await addOnClient(4000)
  const origins = client.libp2p.getMultiaddrs().map(String)
  const created = await spec.pinsPost({ pin: { cid: cid.toString(), name: 'before the restart', origins } })
  await box.close()
  const again = await startTestDaemon(t, config)
  const againSpec = new RemotePinningServiceClient(
    new Configuration({ endpointUrl: `${again.url}${PINNING_API_PREFIX}`, accessToken: token.secret })
  )
  t.equal(
    (await againSpec.pinsRequestidGet({ requestid: created.requestid })).status,
    Status.Queued,
    'the token works; still queued in quiet hours'
  )
  await changeSettings(again, s => void (s.replication.quietHours = null))
  await waitFor(
    'the pin after the restart',
    async () => (await againSpec.pinsRequestidGet({ requestid: created.requestid })).status === Status.Pinned
  )
  t.ok(await isPinned(again.helia, cid), 'the restarted box holds it')
})

t.test('no log line holds a token secret', async t => {
  t.ok(logs.length > 50, `${logs.length} log lines read`)
  t.ok(
    logs.some(line => line.includes('pinning token made')),
    'tokens made are logged, by id'
  )
  t.notOk(
    logs.some(line => line.includes(token.secret)),
    'the secret is in none of them'
  )
})
