// The box's chain RPC failing in every way a proxy in front of the real devnet can make it fail: the
// library stays served as last synced, held films play, the failure is shown, the watcher backs off
// rather than spinning, and sync picks up what happened meanwhile once the RPC is back. The
// custodian reads the devnet directly: past the key's offline grace it decides, on chain, what plays.
import t from 'tap'
import type { ChainSyncView } from '../server/chain/sync-status.ts'
import type { LibraryView } from '../server/library/routes.ts'
import { section } from '../server/storage/state-db.ts'
import { devnetWallet, startTestDevnet } from './helpers/devnet.ts'
import { buyFilm, registerFilm, transferFilm, type HandMadeFilm } from './helpers/films.ts'
import { launchChromium, newTvPage, saveScreenshot, signInTv } from './helpers/chromium.ts'
import { getJson, listenToEvents } from './helpers/http.ts'
import { daemonConfig, startTestDaemon, testDir } from './helpers/in-process.ts'
import { signedInCookie } from './helpers/owner-session.ts'
import { startRpcProxy, type RpcProxyMode } from './helpers/rpc-proxy.ts'
import { waitFor } from './helpers/wait-for.ts'

const RPC_TIMEOUT_MS = 1500
const devnet = await startTestDevnet(t)
const { contractAddress } = devnet
const creator = devnetWallet(t, devnet, devnet.accounts.creator.privateKey)
const owner = devnetWallet(t, devnet, devnet.accounts.owner.privateKey)
const other = devnetWallet(t, devnet, devnet.accounts.otherCollector.privateKey)
const custodian = await startTestDaemon(t, daemonConfig(devnet, testDir(t, 'custodian'), ['custodian']))
const proxy = await startRpcProxy(t, devnet.rpcUrl)
const boxDefaults = daemonConfig(devnet, testDir(t, 'box'), ['player'], custodian.multiaddrs())
const box = await startTestDaemon(t, {
  ...boxDefaults,
  chain: { ...boxDefaults.chain, rpcUrl: proxy.url, requestTimeoutMs: RPC_TIMEOUT_MS },
  chainPollMs: 100,
  offlineKeyGraceMs: 60 * 60_000
})
const screen = await signedInCookie(box.url, owner)

const library = async (): Promise<LibraryView> => await getJson<LibraryView>(`${box.url}/api/library`, screen)
const chainSync = async (): Promise<ChainSyncView | null> =>
  (await getJson<{ chainSync: ChainSyncView | null }>(`${box.url}/api/status`, screen)).chainSync

async function buyNewFilm(): Promise<HandMadeFilm> {
  const film = await registerFilm({ custodian, creator, contractAddress, bytes: 200_000 })
  await buyFilm(owner, contractAddress, film.tokenId)
  return film
}

async function filmState(tokenId: string, state: string): Promise<void> {
  let seen: unknown
  await waitFor(
    `film ${tokenId} ${state}`,
    async () => {
      seen = (await library()).films.find(film => film.tokenId === tokenId)
      return (seen as { state?: string } | undefined)?.state === state
    },
    { lastSeen: () => seen }
  )
}

/** Waits for the status to say `state` (and, when failing, the error to match: a mode switch fails a request in flight first). */
async function syncState(state: ChainSyncView['state'], error: RegExp = /./): Promise<ChainSyncView> {
  let seen: ChainSyncView | null = null
  return await waitFor(
    `chain sync ${state} ${state === 'failing' ? error : ''}`,
    async () => {
      seen = await chainSync()
      return seen?.state === state && (state !== 'failing' || error.test(seen.error ?? '')) && seen
    },
    { lastSeen: () => seen }
  )
}

async function stream(film: HandMadeFilm): Promise<{ status: number; body: Buffer }> {
  const response = await fetch(`${box.url}/api/films/${film.tokenId}/stream`, {
    headers: { ...screen, range: 'bytes=50000-149999' },
    signal: AbortSignal.timeout(30_000)
  })
  return { status: response.status, body: Buffer.from(await response.arrayBuffer()) }
}

const held = await buyNewFilm()
const sold = await buyNewFilm()
await filmState(held.tokenId, 'ready')
await filmState(sold.tokenId, 'ready')
await syncState('synced')

const failures: Array<{ mode: RpcProxyMode; error: RegExp }> = [
  { mode: 'down', error: /chain RPC cannot be reached: .*ECONNREFUSED/ },
  { mode: 'reset', error: /chain RPC cannot be reached/ },
  { mode: 'hang', error: new RegExp(`did not answer within ${RPC_TIMEOUT_MS / 1000} s`) },
  { mode: 'not-json', error: /JSON/i },
  { mode: 'wrong-shape', error: /answered eth_(chainId|blockNumber) with \{"unexpected":\["shape"\]\}, not a number/ },
  { mode: 'rpc-error', error: /upstream node is syncing/ },
  { mode: 'wrong-chain', error: /serves chain 1, not chain 31337/ }
]

for (const { mode, error } of failures) {
  t.test(`chain RPC ${mode}: library served, films play, the error shown, sync recovers`, async t => {
    const listener = await listenToEvents(`${box.url}/api/library/events`, screen)
    t.teardown(listener.close)
    await proxy.setMode(mode)
    if (mode === 'hang') {
      await waitFor('a sync request held by the RPC', async () => proxy.hanging() > 0)
      const answer = await library()
      t.equal(answer.films.length, 2, 'the library answers while a chain request hangs')
    }
    const failing = await syncState('failing', error)
    t.pass(`the status says why: ${failing.error}`)
    t.ok(failing.failingSince !== null && failing.lastSyncAt !== null, 'with when it started failing and when it last synced')
    const heard = await listener.waitForMore('change', 0)
    t.pass('a screen listening to the library heard of the failure')

    const answer = await library()
    t.same(
      answer.films.map(film => [film.tokenId, film.state]),
      [held, sold].map(film => [film.tokenId, 'ready']),
      'the library lists the films as last synced'
    )
    t.equal(answer.chainSync?.state, 'failing', 'the library answer carries the failure for the home screen')
    t.match(answer.chainSync?.error, error)

    const played = await stream(held)
    t.equal(played.status, 206)
    t.ok(played.body.equals(held.plaintext.subarray(50_000, 150_000)), 'a held film streams the right bytes')

    if (mode === 'hang') {
      await waitFor('a third request held', async () => proxy.requests() >= 3, { timeoutMs: 30_000 })
      t.ok(proxy.hanging() <= 1, `a request past its deadline is closed, not left open: ${proxy.hanging()} held of ${proxy.requests()}`)
    }
    if (mode === 'reset') {
      // first failure at once, then 0.2, 0.4, 0.8, 1.6 s... apart: a watcher without backoff would make ~40 requests in 4 s
      await proxy.setMode('reset')
      await new Promise(resolve => setTimeout(resolve, 4000))
      t.ok(proxy.requests() <= 12, `the watcher backs off: ${proxy.requests()} connections in 4 s`)
    }

    await proxy.setMode('pass')
    const recovered = await syncState('synced')
    t.equal(recovered.error, null, 'the error clears once the RPC answers again')
    await listener.waitForMore('change', heard)
    t.pass('and of the recovery')
  })
}

t.test('what happened during an outage: played within the grace, decided by the custodian past it, synced after', async t => {
  await proxy.setMode('down')
  await syncState('failing')
  await transferFilm(owner, other.address, contractAddress, sold.tokenId)
  const bought = await buyNewFilm()

  // the TV's home screen says so, above the films it still lists
  const browser = await launchChromium()
  t.teardown(() => browser.close())
  const tv = await newTvPage(browser)
  await signInTv(tv, box.url, screen)
  await tv.goto(box.url)
  const notice = tv.locator('[data-notice="chain"]')
  await notice.waitFor({ timeout: 30_000 })
  t.match(
    await notice.textContent(),
    /cannot read the blockchain.*the chain RPC cannot be reached: connect ECONNREFUSED/s,
    'the home screen shows the outage'
  )
  t.equal(await tv.locator(`.card-ready[data-token-id="${held.tokenId}"]`).count(), 1, 'and the films below it')
  await saveScreenshot(tv, 'home-chain-outage')

  // the box cannot see the sale: within the grace the cached key plays
  let played = await stream(sold)
  t.equal(played.status, 206, 'a film sold during the outage plays within the grace')

  // past the grace (both keys verified two hours ago): the box asks the custodian, who reads the chain
  const keys = section(box.db, 'film-keys')
  const twoHoursAgo = new Date(Date.now() - 2 * 60 * 60_000).toISOString()
  for (const film of [held, sold]) await keys.put(film.tokenId, { ...(await keys.get(film.tokenId))!, verifiedAt: twoHoursAgo })

  played = await stream(sold)
  t.equal(played.status, 403, 'the sold film is refused past the grace')
  t.match(played.body.toString(), /needs its custodian to confirm ownership again: the custodian refused/)
  played = await stream(held)
  t.equal(played.status, 206, 'the held film is confirmed by the custodian and plays')
  t.ok(played.body.equals(held.plaintext.subarray(50_000, 150_000)))
  t.ok(Date.parse((await keys.get(held.tokenId))!.verifiedAt) > Date.now() - 60_000, "the held film's key is verified afresh")

  await proxy.setMode('pass')
  await filmState(sold.tokenId, 'locked')
  await filmState(bought.tokenId, 'ready')
  t.equal((await stream(sold)).status, 403, 'the sale is seen once the RPC is back')
  played = await stream(bought)
  t.equal(played.status, 206, 'the purchase made during the outage is synced and plays')
  t.ok(played.body.equals(bought.plaintext.subarray(50_000, 150_000)))
  t.equal((await syncState('synced')).error, null)
  await tv.reload()
  await tv.locator(`.card-ready[data-token-id="${bought.tokenId}"]`).waitFor({ timeout: 30_000 })
  t.equal(await notice.count(), 0, 'the notice is gone once the chain is read again')
})
