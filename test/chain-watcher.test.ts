import t from 'tap'
import { JsonRpcProvider, parseEther } from 'ethers'
import { createChainWatcher, type HoldingsChange, type WatcherState, type WatcherStore } from '../server/chain/watcher.ts'
import type { Devnet } from '../server/devnet/devnet.ts'
import { connectDevnet, startTestDevnet } from './helpers/devnet.ts'
import { WRONG_CHAIN_ID, startRpcProxy } from './helpers/rpc-proxy.ts'
import { waitFor } from './helpers/wait-for.ts'

const PRICE = parseEther('0.01')

class MemoryStore implements WatcherStore {
  state: WatcherState | undefined
  saves = 0
  async load() {
    return structuredClone(this.state)
  }
  async save(state: WatcherState) {
    this.state = structuredClone(state)
    this.saves++
  }
}

function watch(devnet: Devnet, provider: JsonRpcProvider, store: WatcherStore, confirmations = 0, chainId?: number) {
  const changes: HoldingsChange[] = []
  const errors: unknown[] = []
  const watcher = createChainWatcher({
    provider,
    contractAddress: devnet.contractAddress,
    owner: devnet.accounts.owner.address.toLowerCase(),
    fromBlock: devnet.deploymentBlock,
    confirmations,
    store,
    pollMs: 25,
    onChange: change => void changes.push(change),
    onError: err => void errors.push(err),
    chainId
  })
  return { watcher, changes, errors }
}

/** The watcher polls every 25 ms: its changes and errors are looked at as often. */
const watching = { timeoutMs: 10_000, intervalMs: 20 }

t.test('follows the owner through purchases, tiers, transfers and restarts', async t => {
  const devnet = await startTestDevnet(t)
  const { provider, creator, owner, other } = connectDevnet(t, devnet)
  const { creator: creatorAccount, owner: ownerAccount, otherCollector } = devnet.accounts
  // film 1: tier 2 from 3 tokens; film 2: no thresholds
  await (await creator.registerFilm!('ipfs://film-one', PRICE, 1000, [3, 10], creatorAccount.address, 500)).wait()
  await (await creator.registerFilm!('ipfs://film-two', PRICE, 1000, [], creatorAccount.address, 0)).wait()

  const store = new MemoryStore()
  const { watcher, changes } = watch(devnet, provider, store)

  await (await owner.buy!(1, 1, { value: PRICE })).wait()
  let result = await watcher.syncOnce()
  t.same(result.changes, [{ tokenId: '1', quantity: '1', tier: 1, metadataUri: 'ipfs://film-one', previousQuantity: '0' }])
  t.equal(result.syncedBlock, await provider.getBlockNumber())
  t.same(store.state, { lastBlock: result.syncedBlock, holdings: { 1: { quantity: '1', tier: 1, metadataUri: 'ipfs://film-one' } } })

  await (await owner.buy!(1, 2, { value: PRICE * 2n })).wait()
  result = await watcher.syncOnce()
  t.same(result.changes, [{ tokenId: '1', quantity: '3', tier: 2, metadataUri: 'ipfs://film-one', previousQuantity: '1' }])

  await (await other.buy!(1, 7, { value: PRICE * 7n })).wait()
  await (await other.buy!(2, 2, { value: PRICE * 2n })).wait()
  result = await watcher.syncOnce()
  t.same(result.changes, [], "another collector's purchases do not touch the owner")
  t.equal(watcher.syncedBlock(), await provider.getBlockNumber())

  await (await other.safeBatchTransferFrom!(otherCollector.address, ownerAccount.address, [1, 2], [7, 1], '0x')).wait()
  result = await watcher.syncOnce()
  t.same(
    result.changes.toSorted((x, y) => x.tokenId.localeCompare(y.tokenId)),
    [
      { tokenId: '1', quantity: '10', tier: 3, metadataUri: 'ipfs://film-one', previousQuantity: '3' },
      { tokenId: '2', quantity: '1', tier: 1, metadataUri: 'ipfs://film-two', previousQuantity: '0' }
    ],
    'a batch transfer in'
  )

  await (await owner.safeTransferFrom!(ownerAccount.address, otherCollector.address, 1, 10, '0x')).wait()
  result = await watcher.syncOnce()
  t.same(result.changes, [{ tokenId: '1', quantity: '0', tier: 0, metadataUri: 'ipfs://film-one', previousQuantity: '10' }])
  t.same(store.state!.holdings, { 2: { quantity: '1', tier: 1, metadataUri: 'ipfs://film-two' } })
  t.equal(changes.length, 5, 'onChange saw each change once')
  await watcher.close()

  // A new watcher on the same store resumes from the saved block: nothing old is reported again.
  const restarted = watch(devnet, provider, store)
  t.same((await restarted.watcher.syncOnce()).changes, [])
  await (await owner.buy!(2, 1, { value: PRICE })).wait()
  t.same((await restarted.watcher.syncOnce()).changes, [
    { tokenId: '2', quantity: '2', tier: 1, metadataUri: 'ipfs://film-two', previousQuantity: '1' }
  ])

  // A watcher with an empty store rebuilds the same holdings from the deployment block.
  const fresh = new MemoryStore()
  await watch(devnet, provider, fresh).watcher.syncOnce()
  t.same(fresh.state, store.state)
})

t.test('a purchase counts only once it has the required confirmations', async t => {
  const devnet = await startTestDevnet(t)
  const { provider, creator, owner } = connectDevnet(t, devnet)
  await (await creator.registerFilm!('ipfs://film-one', PRICE, 10, [], devnet.accounts.creator.address, 0)).wait()
  const { watcher } = watch(devnet, provider, new MemoryStore(), 2)

  const bought = await (await owner.buy!(1, 1, { value: PRICE })).wait()
  t.same((await watcher.syncOnce()).changes, [])
  t.equal(watcher.syncedBlock(), bought!.blockNumber - 2)
  await provider.send('evm_mine', [])
  t.same((await watcher.syncOnce()).changes, [], 'one block on top is not enough')
  await provider.send('evm_mine', [])
  t.same((await watcher.syncOnce()).changes, [
    { tokenId: '1', quantity: '1', tier: 1, metadataUri: 'ipfs://film-one', previousQuantity: '0' }
  ])
  t.equal(watcher.syncedBlock(), bought!.blockNumber)
})

t.test('RPC down: errors reported, state untouched, recovery when it is back; chain reset resyncs', async t => {
  const stateDir = t.testdir()
  let devnet = await startTestDevnet(t, { stateDir })
  const port = Number(new URL(devnet.rpcUrl).port)
  // one client for the whole test: it must survive the server going away and coming back
  const client = connectDevnet(t, devnet)
  await (await client.creator.registerFilm!('ipfs://film-one', PRICE, 10, [], devnet.accounts.creator.address, 0)).wait()
  await (await client.owner.buy!(1, 1, { value: PRICE })).wait()

  const store = new MemoryStore()
  const { watcher, changes, errors } = watch(devnet, client.provider, store)
  t.teardown(() => watcher.close())
  watcher.start()
  await waitFor('the first purchase', async () => changes.length === 1, { ...watching, lastSeen: () => changes })
  const synced = structuredClone(store.state)
  const saves = store.saves

  await devnet.close()
  await waitFor('two failed polls', async () => errors.length >= 2, { ...watching, lastSeen: () => errors.map(String) })
  t.match(errors[0], { code: 'ECONNREFUSED' })
  t.same(store.state, synced, 'state untouched while the RPC is down')
  t.equal(store.saves, saves)

  devnet = await startTestDevnet(t, { port, stateDir })
  await (await client.owner.buy!(1, 2, { value: PRICE * 2n })).wait()
  await waitFor('the purchase after recovery', async () => changes.length === 2, { ...watching, lastSeen: () => changes })
  t.match(changes[1], { tokenId: '1', quantity: '3', previousQuantity: '1' })
  await watcher.close()

  // The same port now serves a brand-new chain (no stateDir): shorter than the saved block.
  await devnet.close()
  devnet = await startTestDevnet(t, { port })
  await client.provider.send('evm_mine', [])
  const reset = await watcher.syncOnce()
  t.equal(reset.chainReset, true)
  t.same(reset.changes, [{ tokenId: '1', quantity: '0', tier: 0, metadataUri: 'ipfs://film-one', previousQuantity: '3' }])
  t.same(store.state!.holdings, {})
})

t.test('a head below the synced block resyncs only on the devnet; elsewhere the RPC is behind', async t => {
  const devnet = await startTestDevnet(t)
  const { provider } = connectDevnet(t, devnet)
  const head = await provider.getBlockNumber()
  const ahead = (): MemoryStore => Object.assign(new MemoryStore(), { state: { lastBlock: head + 50, holdings: {} } })

  const onDevnet = ahead()
  const reset = await watch(devnet, provider, onDevnet, 0, devnet.chainId).watcher.syncOnce()
  t.equal(reset.chainReset, true)
  t.equal(onDevnet.state!.lastBlock, head)

  // The same chain served as chain 1 (the proxy rewrites eth_chainId): a lagging RPC of a real network.
  const proxy = await startRpcProxy(t, devnet.rpcUrl)
  await proxy.setMode('wrong-chain')
  const lagging = new JsonRpcProvider(proxy.url, undefined, { staticNetwork: true })
  t.teardown(() => lagging.destroy())
  const onMainnet = ahead()
  await t.rejects(watch(devnet, lagging, onMainnet, 0, Number(WRONG_CHAIN_ID)).watcher.syncOnce(), {
    name: 'ChainAnswerError',
    message: new RegExp(`behind: its head is block ${head}, and this box has already synced to block ${head + 50}`)
  })
  t.same(onMainnet.state, { lastBlock: head + 50, holdings: {} }, 'the position and holdings are kept')
  t.equal(onMainnet.saves, 0)
})
