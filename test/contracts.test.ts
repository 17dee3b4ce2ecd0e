import t from 'tap'
import { readFile } from 'node:fs/promises'
import {
  Contract,
  ContractFactory,
  ZeroAddress,
  ZeroHash,
  id,
  type ContractTransactionResponse,
  type TransactionReceipt,
  type Wallet
} from 'ethers'
import { createEdrProvider, EdrRpcError, InvalidEdrOptionsError } from '../server/devnet/edr-provider.ts'
import { buildFilmToken, compileSolidity, FILM_TOKEN_BUILD_FILE } from '../contracts/compile.ts'
import { filmIdFromReceipt } from '../server/chain/film-token.ts'
import { TEST_BALANCE, TEST_CHAIN_ID, createTestChain, deployFilmToken, testPrivateKey, type TestChain } from './helpers/evm.ts'
import type { Test } from './helpers/in-process.ts'

const CREATOR_ROLE = id('CREATOR_ROLE')
const PRICE = 1_000_000_000_000_000n // 0.001 ether
const URI = 'ipfs://bafybeigdyrzt5sfp7udm7hu76uh7y26nf3efuylqabf3oclgtqy55fbzdi'

// A contract with no receive/fallback (so it cannot take ether) that relays calls to the film
// contract, accepts ERC-1155 tokens, and can re-enter the film contract on receipt.
const RELAY_SOURCE = `// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;
contract EtherRejectingRelay {
    bytes private reenterCall;
    function setReenterCall(bytes calldata data) external { reenterCall = data; }
    function relay(address target, bytes calldata data) external payable returns (bytes memory) {
        (bool ok, bytes memory ret) = target.call{value: msg.value}(data);
        if (!ok) assembly { revert(add(ret, 32), mload(ret)) }
        return ret;
    }
    function onERC1155Received(address, address, uint256, uint256, bytes calldata) external returns (bytes4) {
        if (reenterCall.length > 0) {
            (bool ok, bytes memory ret) = msg.sender.call(reenterCall);
            if (!ok) assembly { revert(add(ret, 32), mload(ret)) }
        }
        return this.onERC1155Received.selector;
    }
}`

type Fixture = TestChain & {
  token: Contract
  admin: Wallet
  creator: Wallet
  buyer: Wallet
  other: Wallet
  royaltyReceiver: Wallet
}

async function fixture(tt: Test): Promise<Fixture> {
  const chain = await createTestChain(5)
  tt.teardown(() => chain.provider.destroy())
  const [admin, creator, buyer, other, royaltyReceiver] = chain.wallets as [Wallet, Wallet, Wallet, Wallet, Wallet]
  const token = await deployFilmToken(admin)
  await mined(token.grantRole(CREATOR_ROLE, creator.address))
  return { ...chain, token, admin, creator, buyer, other, royaltyReceiver }
}

async function mined(sent: Promise<ContractTransactionResponse>): Promise<TransactionReceipt> {
  const receipt = await (await sent).wait()
  if (receipt === null) throw new Error('transaction was not mined')
  return receipt
}

type FilmParams = { uri?: string; price?: bigint; maxSupply?: bigint; thresholds?: bigint[]; royaltyBps?: bigint }

async function register(f: Fixture, p: FilmParams = {}, from: Wallet = f.creator): Promise<bigint> {
  const token = f.token.connect(from) as Contract
  const receipt = await mined(
    token.registerFilm(
      p.uri ?? URI,
      p.price ?? PRICE,
      p.maxSupply ?? 1000n,
      p.thresholds ?? [100n, 500n],
      f.royaltyReceiver.address,
      p.royaltyBps ?? 500n
    )
  )
  return filmIdFromReceipt(f.token, receipt)
}

function eventsOf(token: Contract, receipt: TransactionReceipt, name: string): { args: unknown[] }[] {
  return receipt.logs
    .map(log => token.interface.parseLog(log))
    .filter(parsed => parsed?.name === name)
    .map(parsed => ({ args: parsed!.args.toArray() }))
}

async function buy(f: Fixture, filmId: bigint, quantity: bigint, value: bigint, from: Wallet = f.buyer) {
  return mined((f.token.connect(from) as Contract).buy(filmId, quantity, { value }))
}

/** Asserts that `action` reverts with the custom error `name(args)`, decoded from the revert data. */
async function rejectsWith(tt: Test, action: Promise<unknown>, iface: Contract, name: string, args: unknown[]) {
  const err = (await action.then(
    () => undefined,
    (e: unknown) => e
  )) as { data?: string } | undefined
  if (err === undefined) return tt.fail(`expected a revert with ${name}`)
  const parsed = typeof err.data === 'string' ? iface.interface.parseError(err.data) : null
  tt.equal(parsed?.name, name, `reverts with ${name}`)
  tt.strictSame(parsed?.args.toArray(), args, `${name} arguments`)
}

t.test('EDR provider', async t => {
  await t.test('serves the chain id and funds the given accounts', async t => {
    const chain = await createTestChain(2)
    t.teardown(() => chain.provider.destroy())
    t.equal((await chain.provider.getNetwork()).chainId, BigInt(TEST_CHAIN_ID))
    for (const wallet of chain.wallets) t.equal(await chain.provider.getBalance(wallet.address), TEST_BALANCE)
  })

  await t.test('rejects bad options with a clear error', async t => {
    await t.rejects(createEdrProvider({ chainId: 0, accounts: [] }), InvalidEdrOptionsError)
    await t.rejects(createEdrProvider({ chainId: 1, accounts: [{ privateKey: '0x1234', balanceWei: 1n }] }), InvalidEdrOptionsError)
  })

  await t.test('surfaces revert data as a JSON-RPC error; a reverting transaction is mined with status 0', async t => {
    const f = await fixture(t)
    const data = f.token.interface.encodeFunctionData('buy', [7n, 1n])
    const err = await f.provider.send('eth_call', [{ to: await f.token.getAddress(), data }, 'latest']).catch(e => e)
    t.equal(f.token.interface.parseError(err.data)?.name, 'UnknownFilm')

    const tx = await f.buyer.sendTransaction({ to: await f.token.getAddress(), data, gasLimit: 100_000n })
    const receipt = await f.provider.getTransactionReceipt(tx.hash)
    t.equal(receipt?.status, 0, 'mined and failed, like on a public chain')
  })

  await t.test('raw EIP-1193 errors carry code, message and hex data', async t => {
    const eip1193 = await createEdrProvider({
      chainId: TEST_CHAIN_ID,
      accounts: [{ privateKey: testPrivateKey(0), balanceWei: TEST_BALANCE }]
    })
    // init code that deploys runtime code which always reverts with 0xdeadbeef
    const runtime = '63deadbeef6000526004601cfd'
    const initCode = `0x6c${runtime}600052600d6013f3`
    const [from] = (await eip1193.request({ method: 'eth_accounts' })) as string[]
    const hash = await eip1193.request({ method: 'eth_sendTransaction', params: [{ from, data: initCode }] })
    const receipt = (await eip1193.request({ method: 'eth_getTransactionReceipt', params: [hash] })) as {
      contractAddress: string
    }
    const err = await eip1193
      .request({ method: 'eth_call', params: [{ from, to: receipt.contractAddress }, 'latest'] })
      .catch((e: unknown) => e)
    t.type(err, EdrRpcError)
    t.equal((err as EdrRpcError).data, '0xdeadbeef')
    t.equal(typeof (err as EdrRpcError).code, 'number')
    t.match((err as EdrRpcError).message, /revert/)
  })
})

t.test('compile', async t => {
  const { artifact, compiled } = await buildFilmToken()
  t.equal(compiled, false, 'unchanged sources are not recompiled')
  const onDisk = JSON.parse(await readFile(FILM_TOKEN_BUILD_FILE, 'utf8'))
  t.strictSame(onDisk, artifact)
  t.equal(artifact.contractName, 'FilmToken')
  t.match(artifact.sourceHash, /^[0-9a-f]{64}$/)
  t.match(artifact.solcVersion, /^0\.8\.37\+/)
  t.match(artifact.bytecode, /^0x[0-9a-f]+$/)
  await t.rejects(
    compileSolidity({ 'Broken.sol': { content: 'pragma solidity ^0.8.24; contract Broken { uint x = ; }' } }, 'Broken.sol', 'Broken'),
    { name: 'ContractCompileError', message: /solc failed:[\s\S]*Broken\.sol/ }
  )
})

t.test('registration and access control', async t => {
  const f = await fixture(t)

  t.equal(await f.token.hasRole(ZeroHash, f.admin.address), true, 'deployer is admin')
  t.equal(await f.token.filmCount(), 0n)

  const receipt = await mined(
    (f.token.connect(f.creator) as Contract).registerFilm(URI, PRICE, 1000n, [100n, 5000n], f.royaltyReceiver.address, 750n)
  )
  t.strictSame(eventsOf(f.token, receipt, 'FilmRegistered'), [{ args: [1n, f.creator.address, URI, PRICE, 1000n] }])
  const second = await register(f, { uri: 'ipfs://second', thresholds: [] })
  t.equal(second, 2n, 'ids increment from 1')
  t.equal(await f.token.filmCount(), 2n)

  const film = await f.token.film(1n)
  t.equal(film.creator, f.creator.address)
  t.equal(film.metadataUri, URI)
  t.equal(film.price, PRICE)
  t.equal(film.maxSupply, 1000n)
  t.strictSame(film.tierThresholds.toArray(), [100n, 5000n])
  t.strictSame((await f.token.tierThresholds(1n)).toArray(), [100n, 5000n])
  t.strictSame((await f.token.tierThresholds(2n)).toArray(), [])
  t.equal(await f.token.uri(1n), URI)
  t.equal(await f.token.uri(2n), 'ipfs://second')

  await t.test('only CREATOR_ROLE registers', async t => {
    await rejectsWith(t, register(f, {}, f.other), f.token, 'AccessControlUnauthorizedAccount', [f.other.address, CREATOR_ROLE])
    await rejectsWith(t, register(f, {}, f.admin), f.token, 'AccessControlUnauthorizedAccount', [f.admin.address, CREATOR_ROLE])
  })

  await t.test('only the admin grants the role', async t => {
    const asCreator = f.token.connect(f.creator) as Contract
    await rejectsWith(t, mined(asCreator.grantRole(CREATOR_ROLE, f.other.address)), f.token, 'AccessControlUnauthorizedAccount', [
      f.creator.address,
      ZeroHash
    ])
    await mined(f.token.grantRole(CREATOR_ROLE, f.other.address))
    t.equal(await register(f, {}, f.other), 3n, 'a newly granted creator registers')
    t.equal((await f.token.film(3n)).creator, f.other.address)
    await mined(f.token.revokeRole(CREATOR_ROLE, f.other.address))
    await rejectsWith(t, register(f, {}, f.other), f.token, 'AccessControlUnauthorizedAccount', [f.other.address, CREATOR_ROLE])
  })

  await t.test('invalid parameters', async t => {
    const next = (await f.token.filmCount()) + 1n
    await rejectsWith(t, register(f, { thresholds: [1n] }), f.token, 'InvalidThresholds', [0n])
    await rejectsWith(t, register(f, { thresholds: [0n] }), f.token, 'InvalidThresholds', [0n])
    await rejectsWith(t, register(f, { thresholds: [100n, 100n] }), f.token, 'InvalidThresholds', [1n])
    await rejectsWith(t, register(f, { thresholds: [2n, 100n, 50n] }), f.token, 'InvalidThresholds', [2n])
    await rejectsWith(t, register(f, { uri: '' }), f.token, 'EmptyMetadataUri', [])
    await rejectsWith(t, register(f, { maxSupply: 0n }), f.token, 'ZeroMaxSupply', [])
    await rejectsWith(t, register(f, { royaltyBps: 10_001n }), f.token, 'ERC2981InvalidTokenRoyalty', [next, 10_001n, 10_000n])
    const asCreator = f.token.connect(f.creator) as Contract
    await rejectsWith(
      t,
      mined(asCreator.registerFilm(URI, PRICE, 10n, [], ZeroAddress, 100n)),
      f.token,
      'ERC2981InvalidTokenRoyaltyReceiver',
      [next, ZeroAddress]
    )
    t.equal(await f.token.filmCount(), next - 1n, 'failed registrations leave no film behind')
    t.equal(await register(f, { thresholds: [2n] }), next, 'the smallest valid threshold is 2')
  })

  await t.test('unknown films', async t => {
    const count = await f.token.filmCount()
    for (const unknown of [0n, count + 1n]) {
      await rejectsWith(t, f.token.film(unknown), f.token, 'UnknownFilm', [unknown])
      await rejectsWith(t, f.token.uri(unknown), f.token, 'UnknownFilm', [unknown])
      await rejectsWith(t, f.token.tierThresholds(unknown), f.token, 'UnknownFilm', [unknown])
      await rejectsWith(t, f.token.rightsTier(f.buyer.address, unknown), f.token, 'UnknownFilm', [unknown])
      await rejectsWith(t, buy(f, unknown, 1n, PRICE), f.token, 'UnknownFilm', [unknown])
    }
  })
})

t.test('buying', async t => {
  const f = await fixture(t)
  const filmId = await register(f, { maxSupply: 10n })
  const tokenAddress = await f.token.getAddress()

  await t.test('exact payment mints, credits the creator and emits FilmPurchased', async t => {
    const before = await f.provider.getBalance(f.buyer.address)
    const receipt = await buy(f, filmId, 3n, 3n * PRICE)
    t.equal(await f.provider.getBalance(f.buyer.address), before - 3n * PRICE - receipt.fee)
    t.equal(await f.provider.getBalance(tokenAddress), 3n * PRICE)
    t.equal(await f.token.balanceOf(f.buyer.address, filmId), 3n)
    t.equal(await f.token['totalSupply(uint256)'](filmId), 3n)
    t.equal(await f.token.proceeds(f.creator.address), 3n * PRICE)
    t.strictSame(eventsOf(f.token, receipt, 'FilmPurchased'), [{ args: [filmId, f.buyer.address, 3n, 3n * PRICE] }])
    t.strictSame(eventsOf(f.token, receipt, 'TransferSingle'), [{ args: [f.buyer.address, ZeroAddress, f.buyer.address, filmId, 3n] }])
  })

  await t.test('excess payment is refunded', async t => {
    const before = await f.provider.getBalance(f.buyer.address)
    const receipt = await buy(f, filmId, 2n, 2n * PRICE + 123_456n)
    t.equal(await f.provider.getBalance(f.buyer.address), before - 2n * PRICE - receipt.fee, 'only the price is kept')
    t.equal(await f.provider.getBalance(tokenAddress), 5n * PRICE)
    t.equal(await f.token.proceeds(f.creator.address), 5n * PRICE)
    t.strictSame(eventsOf(f.token, receipt, 'FilmPurchased'), [{ args: [filmId, f.buyer.address, 2n, 2n * PRICE] }])
  })

  await t.test('rejections', async t => {
    await rejectsWith(t, buy(f, filmId, 0n, PRICE), f.token, 'ZeroQuantity', [])
    await rejectsWith(t, buy(f, filmId, 2n, 2n * PRICE - 1n), f.token, 'InsufficientPayment', [2n * PRICE, 2n * PRICE - 1n])
    await rejectsWith(t, buy(f, filmId, 1n, 0n), f.token, 'InsufficientPayment', [PRICE, 0n])
    await rejectsWith(t, buy(f, filmId, 6n, 6n * PRICE), f.token, 'ExceedsMaxSupply', [filmId, 6n, 5n])
  })

  await t.test('max supply', async t => {
    await buy(f, filmId, 5n, 5n * PRICE, f.other)
    t.equal(await f.token['totalSupply(uint256)'](filmId), 10n, 'sold out exactly at maxSupply')
    await rejectsWith(t, buy(f, filmId, 1n, PRICE), f.token, 'ExceedsMaxSupply', [filmId, 1n, 0n])
  })

  await t.test('a free film costs nothing and credits nothing', async t => {
    const free = await register(f, { price: 0n })
    const creditedBefore = await f.token.proceeds(f.creator.address)
    await buy(f, free, 4n, 0n)
    t.equal(await f.token.balanceOf(f.buyer.address, free), 4n)
    t.equal(await f.token.proceeds(f.creator.address), creditedBefore)
  })
})

t.test('transfers move licences and tiers', async t => {
  const f = await fixture(t)
  const filmId = await register(f, { price: 1n, thresholds: [100n] })
  await buy(f, filmId, 150n, 150n)
  t.equal(await f.token.rightsTier(f.buyer.address, filmId), 2n)

  const asBuyer = f.token.connect(f.buyer) as Contract
  const receipt = await mined(asBuyer.safeTransferFrom(f.buyer.address, f.other.address, filmId, 60n, '0x'))
  t.strictSame(eventsOf(f.token, receipt, 'TransferSingle'), [{ args: [f.buyer.address, f.buyer.address, f.other.address, filmId, 60n] }])
  t.equal(await f.token.balanceOf(f.buyer.address, filmId), 90n)
  t.equal(await f.token.balanceOf(f.other.address, filmId), 60n)
  t.equal(await f.token['totalSupply(uint256)'](filmId), 150n, 'transfers do not change supply')
  t.equal(await f.token.rightsTier(f.buyer.address, filmId), 1n, 'dropped below 100')
  t.equal(await f.token.rightsTier(f.other.address, filmId), 1n)

  await mined((f.token.connect(f.other) as Contract).safeTransferFrom(f.other.address, f.buyer.address, filmId, 60n, '0x'))
  t.equal(await f.token.rightsTier(f.buyer.address, filmId), 2n)
  t.equal(await f.token.rightsTier(f.other.address, filmId), 0n, 'sold everything: no licence')

  await rejectsWith(
    t,
    mined((f.token.connect(f.other) as Contract).safeTransferFrom(f.buyer.address, f.other.address, filmId, 1n, '0x')),
    f.token,
    'ERC1155MissingApprovalForAll',
    [f.other.address, f.buyer.address]
  )
})

t.test('rights tiers at every boundary', async t => {
  const f = await fixture(t)
  const filmId = await register(f, { price: 1n, maxSupply: 60_000n, thresholds: [100n, 5000n, 10_000n, 50_000n] })
  t.equal(await f.token.rightsTier(f.buyer.address, filmId), 0n, 'no token, no tier')

  // balance the buyer reaches -> tier expected at that balance
  const steps: [bigint, bigint][] = [
    [1n, 1n],
    [99n, 1n],
    [100n, 2n],
    [101n, 2n],
    [4999n, 2n],
    [5000n, 3n],
    [9999n, 3n],
    [10_000n, 4n],
    [49_999n, 4n],
    [50_000n, 5n],
    [60_000n, 5n]
  ]
  let balance = 0n
  for (const [target, tier] of steps) {
    await buy(f, filmId, target - balance, target - balance)
    balance = target
    t.equal(await f.token.rightsTier(f.buyer.address, filmId), tier, `balance ${target} -> tier ${tier}`)
  }

  const plain = await register(f, { price: 1n, maxSupply: 1000n, thresholds: [] })
  await buy(f, plain, 1000n, 1000n)
  t.equal(await f.token.rightsTier(f.buyer.address, plain), 1n, 'no thresholds: personal licence only')
})

t.test('royalties and interfaces', async t => {
  const f = await fixture(t)
  const a = await register(f, { royaltyBps: 500n })
  const b = await register(f, { royaltyBps: 0n })
  const [receiverA, amountA] = await f.token.royaltyInfo(a, 10_000n)
  t.equal(receiverA, f.royaltyReceiver.address)
  t.equal(amountA, 500n, '5 % of 10 000')
  t.equal((await f.token.royaltyInfo(a, 1_000_000_000n))[1], 50_000_000n)
  t.equal((await f.token.royaltyInfo(b, 10_000n))[1], 0n, 'per-film royalty')

  const supported: Record<string, string> = {
    IERC165: '0x01ffc9a7',
    IERC1155: '0xd9b67a26',
    IERC1155MetadataURI: '0x0e89341c',
    IERC2981: '0x2a55205a',
    IAccessControl: '0x7965db0b'
  }
  for (const [name, interfaceId] of Object.entries(supported)) {
    t.equal(await f.token.supportsInterface(interfaceId), true, name)
  }
  t.equal(await f.token.supportsInterface('0xffffffff'), false)
  t.equal(await f.token.supportsInterface('0x80ac58cd'), false, 'not ERC-721')
})

t.test('withdrawing proceeds', async t => {
  const f = await fixture(t)
  const filmId = await register(f)
  await buy(f, filmId, 4n, 4n * PRICE)
  const tokenAddress = await f.token.getAddress()

  const asCreator = f.token.connect(f.creator) as Contract
  const before = await f.provider.getBalance(f.creator.address)
  const receipt = await mined(asCreator.withdraw())
  t.equal(await f.provider.getBalance(f.creator.address), before + 4n * PRICE - receipt.fee)
  t.strictSame(eventsOf(f.token, receipt, 'ProceedsWithdrawn'), [{ args: [f.creator.address, 4n * PRICE] }])
  t.equal(await f.token.proceeds(f.creator.address), 0n)
  t.equal(await f.provider.getBalance(tokenAddress), 0n)

  await rejectsWith(t, mined(asCreator.withdraw()), f.token, 'NothingToWithdraw', [])
  await rejectsWith(t, mined((f.token.connect(f.buyer) as Contract).withdraw()), f.token, 'NothingToWithdraw', [])
})

t.test('retiring a film', async t => {
  const f = await fixture(t)
  const filmId = await register(f)
  await buy(f, filmId, 2n, 2n * PRICE)
  // another creator, a collector who holds the film and a guest: none of them may retire it
  await mined(f.token.grantRole(CREATOR_ROLE, f.other.address))
  for (const stranger of [f.other, f.buyer, f.royaltyReceiver]) {
    const asStranger = f.token.connect(stranger) as Contract
    await rejectsWith(t, mined(asStranger.retireFilm(filmId)), f.token, 'NotFilmCreator', [filmId, stranger.address])
  }
  t.equal((await f.token.film(filmId)).retired, false, 'the refused attempts changed nothing')
  await rejectsWith(t, mined((f.token.connect(f.creator) as Contract).retireFilm(99n)), f.token, 'UnknownFilm', [99n])

  const receipt = await mined((f.token.connect(f.creator) as Contract).retireFilm(filmId))
  t.strictSame(eventsOf(f.token, receipt, 'FilmRetired'), [{ args: [filmId, f.creator.address] }])
  t.equal((await f.token.film(filmId)).retired, true)
  await rejectsWith(t, buy(f, filmId, 1n, PRICE), f.token, 'RetiredFilm', [filmId])
  await rejectsWith(t, mined((f.token.connect(f.creator) as Contract).retireFilm(filmId)), f.token, 'RetiredFilm', [filmId])

  // holders keep what they paid for: their tokens, their rights and the right to pass them on
  t.equal(await f.token.rightsTier(f.buyer.address, filmId), 1n)
  const asBuyer = f.token.connect(f.buyer) as Contract
  await mined(asBuyer.safeTransferFrom(f.buyer.address, f.other.address, filmId, 1n, '0x'))
  t.equal(await f.token.balanceOf(f.other.address, filmId), 1n, 'a retired film still changes hands')
  t.equal(await f.token.proceeds(f.creator.address), 2n * PRICE, 'and its proceeds stay withdrawable')

  await t.test("the admin retires any creator's film", async t => {
    const another = await register(f)
    const retired = await mined(f.token.retireFilm(another))
    t.strictSame(eventsOf(f.token, retired, 'FilmRetired'), [{ args: [another, f.admin.address] }])
  })
})

t.test('contracts that refuse ether and re-entrancy', async t => {
  const f = await fixture(t)
  const filmId = await register(f)
  const compiled = await compileSolidity({ 'Relay.sol': { content: RELAY_SOURCE } }, 'Relay.sol', 'EtherRejectingRelay')
  const relay = (await new ContractFactory(compiled.abi, compiled.bytecode, f.buyer).deploy()) as Contract
  await relay.waitForDeployment()
  const relayAddress = await relay.getAddress()
  const tokenAddress = await f.token.getAddress()
  const encode = (fn: string, args: unknown[]) => f.token.interface.encodeFunctionData(fn, args)

  await t.test('a refund that cannot be delivered reverts the purchase', async t => {
    await rejectsWith(t, mined(relay.relay(tokenAddress, encode('buy', [filmId, 1n]), { value: PRICE + 1n })), f.token, 'TransferFailed', [
      relayAddress,
      1n
    ])
    await mined(relay.relay(tokenAddress, encode('buy', [filmId, 1n]), { value: PRICE }))
    t.equal(await f.token.balanceOf(relayAddress, filmId), 1n, 'exact payment needs no refund')
  })

  await t.test('proceeds that cannot be delivered stay credited', async t => {
    await mined(f.token.grantRole(CREATOR_ROLE, relayAddress))
    const asRelay = encode('registerFilm', [URI, PRICE, 10n, [], f.royaltyReceiver.address, 0n])
    await mined(relay.relay(tokenAddress, asRelay))
    const relayFilm = await f.token.filmCount()
    t.equal((await f.token.film(relayFilm)).creator, relayAddress)
    await buy(f, relayFilm, 2n, 2n * PRICE)
    await rejectsWith(t, mined(relay.relay(tokenAddress, encode('withdraw', []))), f.token, 'TransferFailed', [relayAddress, 2n * PRICE])
    t.equal(await f.token.proceeds(relayAddress), 2n * PRICE)
  })

  await t.test('buying again from the token receipt hook is refused', async t => {
    await mined(relay.setReenterCall(encode('buy', [filmId, 1n])))
    await rejectsWith(
      t,
      mined(relay.relay(tokenAddress, encode('buy', [filmId, 1n]), { value: PRICE })),
      f.token,
      'ReentrancyGuardReentrantCall',
      []
    )
  })
})
