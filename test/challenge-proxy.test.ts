// Issue 15, copies that are provably distinct: a node that holds nothing and fetches whatever it is
// challenged for from a sibling that holds it, over a home uplink (10 Mbit/s, 30 ms round trip,
// simulated in this process: helpers/throttled-link.ts), claims a film. At the monitor's default
// challenge (64 leaves of 1 MiB, hashed with a fresh nonce, within 2 s + 40 ms a leaf = 4.56 s) it
// fails: fetching the leaves would take it about 54 s, 12 times the deadline. The sibling, answering
// from its own disk, passes. A box from before challenge v2 (it refuses the nonce) fails too, naming the update,
// unless the monitor's --challenge-v1-until is ahead. Real devnet, custodian, Helia and monitor.
import t from 'tap'
import Fastify from 'fastify'
import { CID } from 'multiformats/cid'
import { loadOrCreateDeviceIdentity, type DeviceIdentity } from '../server/identity/device-identity.ts'
import { signPayload } from '../server/identity/device-signature.ts'
import { identityRoutes } from '../server/identity/identity-routes.ts'
import { answerErrorsByCode } from '../server/http/error-handler.ts'
import { resolveMonitorConfig } from '../server/monitor/monitor-config.ts'
import { startChallenger } from '../server/monitor/challenger.ts'
import { createNodeStore, type ChallengeRecord } from '../server/monitor/node-store.ts'
import { heldBlock } from '../server/storage/content.ts'
import { openStateDb } from '../server/storage/state-db.ts'
import { holdingProof } from '../server/wire/holding-proof.ts'
import { BLOCK_PATH, CHALLENGE_PATH, REPORTS_PATH, type Challenge, type RegistryNode } from '../server/wire/monitor-protocol.ts'
import { devnetWallet, startTestDevnet } from './helpers/devnet.ts'
import { registerFilm } from './helpers/films.ts'
import { getJson } from './helpers/http.ts'
import { daemonConfig, startTestDaemon, testDir, type Test } from './helpers/in-process.ts'
import { healthReport, registry, startTestMonitor } from './helpers/monitor.ts'
import { startThrottledLink } from './helpers/throttled-link.ts'
import { waitFor } from './helpers/wait-for.ts'

const MiB = 1024 * 1024
/** A home box's uplink: the sibling serves the proxying node through it. */
const HOME_UPLINK = { rttMs: 30, bytesPerSec: 10e6 / 8 }

// the shipped defaults, not numbers made for this test
const defaults = resolveMonitorConfig(['--admission', 'open'])
const challenge = {
  challengeBlocks: defaults.challengeBlocks,
  challengeDeadlineMs: defaults.challengeDeadlineMs,
  challengeMsPerBlock: defaults.challengeMsPerBlock,
  challengeChecks: defaults.challengeChecks
}
const devnet = await startTestDevnet(t)
const creator = devnetWallet(t, devnet, devnet.accounts.creator.privateKey)
const monitor = await startTestMonitor(t, testDir(t, 'monitor'), challenge)
const sibling = await startTestDaemon(t, {
  ...daemonConfig(devnet, testDir(t, 'sibling'), ['custodian', 'storage']),
  monitorUrl: monitor.url,
  reportIntervalSec: 1
})
// more leaves than one challenge asks, so that it asks the full count
const film = await registerFilm({
  custodian: sibling,
  creator,
  contractAddress: devnet.contractAddress,
  bytes: (challenge.challengeBlocks + 8) * MiB
})
const contentCid = film.contentCid.toString()
const node = async (deviceId: string) => (await registry(monitor.url)).find(n => n.deviceId === deviceId)
await waitFor('the sibling to prove holding the film', async () => (await node(sibling.identity.deviceId))?.held.includes(contentCid), {
  timeoutMs: 90_000
})

/**
 * A box that answers for `identity` and holds nothing: it answers each challenge (v1 or v2) by fetching
 * every block asked, all at once, from `sourceUrl`'s block route.
 */
async function startProxyingBox(t: Test, identity: DeviceIdentity, sourceUrl: string): Promise<string> {
  const app = Fastify({ logger: false })
  answerErrorsByCode(app)
  let url: string | undefined
  await app.register(identityRoutes, { identity, apiUrl: () => url })
  app.post<{ Body: Challenge }>(CHALLENGE_PATH, async request => {
    const blocks = await Promise.all(
      request.body.blocks.map(async cid => {
        const response = await fetch(`${sourceUrl}${BLOCK_PATH.replace(':cid', cid)}`)
        return response.ok ? Buffer.from(await response.arrayBuffer()) : null
      })
    )
    const { nonce } = request.body
    if (nonce === undefined) return { blocks: blocks.map(bytes => bytes?.toString('base64') ?? null) }
    return { proofs: blocks.map(bytes => (bytes === null ? null : holdingProof(Buffer.from(nonce, 'base64'), bytes))) }
  })
  await app.listen({ host: '127.0.0.1', port: 0 })
  t.teardown(() => app.close())
  url = `http://127.0.0.1:${(app.server.address() as { port: number }).port}`
  return url
}

/** Reports as `identity`, claiming the film, to the monitor (open admission): it then asks the URL who answers there and lists it. */
async function claimFilm(identity: DeviceIdentity, apiUrl: string): Promise<void> {
  const signed = await signPayload(identity, healthReport(identity, 1, { apiUrl, held: [contentCid] }))
  const response = await monitor.app.inject({ method: 'POST', url: REPORTS_PATH, payload: signed })
  if (response.statusCode !== 201) throw new Error(`report refused: ${response.statusCode} ${response.body}`)
  await waitFor('the monitor to list the proxying node', async () => (await node(identity.deviceId))?.live)
}

t.test('a node fetching the challenged leaves from a sibling over a home uplink fails; the sibling passes', async t => {
  const link = await startThrottledLink(sibling.url, HOME_UPLINK)
  t.teardown(() => link.close())
  const identity = await loadOrCreateDeviceIdentity(testDir(t, 'proxy'))
  await claimFilm(identity, await startProxyingBox(t, identity, link.url))

  // the monitor challenges a new claim at once: one challenge, so the link carries one proxy's fetch
  const proxied = await waitFor('the monitor to challenge the claim', async () => {
    const { nodes } = await getJson<{ nodes: Array<{ deviceId: string; challenges: ChallengeRecord }> }>(`${monitor.url}/api/fleet`)
    const last = nodes.find(n => n.deviceId === identity.deviceId)?.challenges.last
    return last?.cid === contentCid && last
  })
  const deliveredInTime = link.delivered()
  t.equal(proxied.passed, false, `the proxying node fails: ${proxied.reason}`)
  t.equal(proxied.reason, 'no answer before the deadline')
  t.notOk((await node(identity.deviceId))?.held.includes(contentCid), 'its claim does not count as a copy')
  const leafBytes = challenge.challengeBlocks * MiB
  t.ok(
    deliveredInTime < leafBytes / 5,
    `by the verdict the link had carried ${(deliveredInTime / MiB).toFixed(1)} MiB of the ${challenge.challengeBlocks} MiB of leaves`
  )

  const honest = await monitor.challenger.challenge(sibling.identity.deviceId, contentCid)
  t.equal(honest?.passed, true, `the sibling, answering from its disk, passes${honest?.reason ? `: ${honest.reason}` : ''}`)
})

t.test('a box from before challenge v2 fails, naming the update, unless the monitor accepts v1 until a date', async t => {
  const identity = await loadOrCreateDeviceIdentity(testDir(t, 'old-box'))
  // the old box holds the film: it answers from the sibling's blockstore, unthrottled
  const oldBox = await startOldBox(t, identity)
  const db = await openStateDb(testDir(t, 'challenger'))
  t.teardown(() => db.close())
  const listed = (await node(sibling.identity.deviceId)) as RegistryNode
  const old: RegistryNode = { ...listed, deviceId: identity.deviceId, apiUrl: oldBox }
  const outcome = async (v1Until?: Date) => {
    const challenger = startChallenger({
      store: createNodeStore(db),
      registry: async () => [listed, old],
      intervalMs: 24 * 60 * 60 * 1000,
      blocksPerChallenge: challenge.challengeBlocks,
      proof: { deadlineMs: 10_000, msPerBlock: 0, checks: challenge.challengeChecks, ...(v1Until ? { v1Until } : {}) },
      failuresBeforeFailed: 2,
      log: Fastify().log // fastify's silent logger
    })
    t.teardown(() => challenger.close())
    return await challenger.challenge(identity.deviceId, contentCid)
  }
  const refused = await outcome()
  t.equal(refused?.passed, false)
  t.match(refused?.reason, /refused a challenge with a nonce \(400\).*must update/, `by default: ${refused?.reason}`)
  const past = await outcome(new Date(Date.now() - 1000))
  t.equal(past?.passed, false, 'once the date is past, the same')
  const transition = await outcome(new Date(Date.now() + 60_000))
  t.equal(transition?.passed, true, `while --challenge-v1-until is ahead it is asked the v1 way and passes${transition?.reason ?? ''}`)
})

/** A box from before v2: its challenge route's schema allows no nonce; it holds the film (the sibling's blocks). */
async function startOldBox(t: Test, identity: DeviceIdentity): Promise<string> {
  const app = Fastify({ logger: false, ajv: { customOptions: { removeAdditional: false } } })
  answerErrorsByCode(app)
  const properties = { cid: { type: 'string' }, blocks: { type: 'array', maxItems: 8 }, deadline: { type: 'string' } }
  const schema = { body: { type: 'object', additionalProperties: false, required: ['cid', 'blocks', 'deadline'], properties } }
  app.post<{ Body: Challenge }>(CHALLENGE_PATH, { schema }, async request => {
    const blocks: Array<string | null> = []
    for (const cid of request.body.blocks) {
      const bytes = await heldBlock(sibling.helia.blockstore, CID.parse(cid))
      blocks.push(bytes === undefined ? null : Buffer.from(bytes).toString('base64'))
    }
    return { blocks }
  })
  await app.register(identityRoutes, { identity, apiUrl: () => undefined })
  await app.listen({ host: '127.0.0.1', port: 0 })
  t.teardown(() => app.close())
  return `http://127.0.0.1:${(app.server.address() as { port: number }).port}`
}
