// `seed-one buy`, `withdraw`, `retire` and `pair` on the real devnet (issue 17): a collector buys without
// writing ethers code, a creator takes the proceeds or retires a film, an owner pairs a box without a
// phone, and each refusal says what is wrong before any transaction.
import t from 'tap'
import { writeFile } from 'node:fs/promises'
import { Contract, Wallet, id as id_, parseEther } from 'ethers'
import { freePort, runCliToEnd } from './helpers/daemon-process.ts'
import { connectDevnet, devnetCliFlags, startTestDevnet } from './helpers/devnet.ts'
import { daemonConfig, startTestDaemon, testDir } from './helpers/in-process.ts'
import { CookieJar } from './helpers/owner-session.ts'
import { pollPairing } from './helpers/pairing-client.ts'

const devnet = await startTestDevnet(t)
const { creator, owner, other, provider } = connectDevnet(t, devnet)
const chain = ['--rpc-url', devnet.rpcUrl, '--contract', devnet.contractAddress]
const PRICE = parseEther('0.01')

/** Registers a film of `maxSupply` tokens at PRICE; its token id. */
async function register(maxSupply: number): Promise<string> {
  await (
    await creator.getFunction('registerFilm')('ipfs://bafkreigh2akiscaildc', PRICE, maxSupply, [], devnet.accounts.creator.address, 0)
  ).wait()
  return String(await creator.getFunction('filmCount')())
}

const ownerHolds = async (id: string): Promise<bigint> =>
  (await owner.getFunction('balanceOf')(devnet.accounts.owner.address, id)) as bigint

t.test("buy pays the contract's price from the devnet owner's account, and refuses past the supply", async t => {
  const id = await register(2)
  const bought = await runCliToEnd(['buy', id, ...chain])
  t.equal(bought.code, 0, bought.output)
  t.match(bought.output, `bought 1 token(s) of film #${id} for 0.01 ETH`)
  t.match(bought.output, `${devnet.accounts.owner.address} now holds 1`)
  t.equal(await ownerHolds(id), 1n, 'the chain says so')

  const tooMany = await runCliToEnd(['buy', id, '--quantity', '2', ...chain])
  t.equal(tooMany.code, 1)
  t.match(tooMany.output, `seed-one buy: only 1 tokens of film #${id} are left; ask for --quantity 1 at most`)
  t.equal((await runCliToEnd(['buy', id, ...chain])).code, 0, 'the last one')
  const soldOut = await runCliToEnd(['buy', id, ...chain])
  t.equal(soldOut.code, 1)
  t.match(soldOut.output, `film #${id} is not for sale any more: all 2 tokens are sold`)
  t.equal(await ownerHolds(id), 2n, 'no more than the supply was bought')
})

t.test('buy refuses a film that is not there, a wallet without the price, and a wrong contract', async t => {
  const id = await register(10)
  const missing = await runCliToEnd(['buy', '999', ...chain])
  t.equal(missing.code, 1)
  t.match(missing.output, /there is no film #999 on this contract \(it has \d+\): check the token id and --contract/)

  const poor = Wallet.createRandom()
  const keyFile = testDir(t, 'poor.key')
  await writeFile(keyFile, `${poor.privateKey}\n`, { mode: 0o600 })
  const unfunded = await runCliToEnd(['buy', id, '--key-file', keyFile, ...chain])
  t.equal(unfunded.code, 1)
  t.match(unfunded.output, `the wallet ${poor.address} holds 0.0 ETH; 1 token(s) of film #${id} cost 0.01 ETH and gas: fund it`)
  t.equal(await provider.getTransactionCount(poor.address), 0, 'no transaction was sent')

  const badKey = testDir(t, 'bad.key')
  await writeFile(badKey, 'my seed phrase is …')
  t.match((await runCliToEnd(['buy', id, '--key-file', badKey, ...chain])).output, 'must hold one private key: 0x and 64 hex digits')

  const elsewhere = await runCliToEnd(['buy', id, '--rpc-url', devnet.rpcUrl, '--contract', poor.address])
  t.equal(elsewhere.code, 1)
  t.match(elsewhere.output, `there is no contract at ${poor.address} on the chain at ${devnet.rpcUrl} (chain 31337): check --contract`)
  t.match((await runCliToEnd(['buy', 'one', ...chain])).output, 'buy takes one token id')
  t.equal((await runCliToEnd(['buy', id, ...devnetCliFlags(devnet)])).code, 1, '--deployment-block is no flag of buy')
})

t.test("withdraw sends the devnet creator's proceeds, then says there are none", async t => {
  const proceeds = (await creator.getFunction('proceeds')(devnet.accounts.creator.address)) as bigint
  t.ok(proceeds > 0n, 'the sales above left proceeds')
  const before = await provider.getBalance(devnet.accounts.creator.address)
  const withdrawn = await runCliToEnd(['withdraw', ...chain])
  t.equal(withdrawn.code, 0, withdrawn.output)
  t.match(withdrawn.output, `withdrew ${Number(proceeds) / 1e18} ETH to ${devnet.accounts.creator.address}`)
  t.ok((await provider.getBalance(devnet.accounts.creator.address)) > before, "the creator's balance rose")
  const again = await runCliToEnd(['withdraw', ...chain])
  t.equal(again.code, 1)
  t.match(again.output, `${devnet.accounts.creator.address} has no proceeds to withdraw from this contract`)
})

t.test("pair signs the code a player's TV shows with the owner's key: the box is paired, that TV signed in", async t => {
  const box = await startTestDaemon(t, daemonConfig(devnet, testDir(t, 'player'), ['player']))
  const tv = new CookieJar()
  const { code } = await pollPairing(box.url, tv)

  const malformed = await runCliToEnd(['pair', 'abc', '--url', box.url])
  t.equal(malformed.code, 1)
  t.match(malformed.output, 'seed-one pair: pair takes the 8-character code the TV shows')
  const nobody = await runCliToEnd(['pair', code as string, '--url', `http://127.0.0.1:${await freePort()}`])
  t.equal(nobody.code, 1)
  t.match(nobody.output, /no Seed One answers at http:\/\/127\.0\.0\.1:\d+ \(fetch failed\): check --url/)
  const wrong = await runCliToEnd(['pair', 'ZZZZZZZZ', '--url', box.url])
  t.equal(wrong.code, 1)
  t.match(wrong.output, 'the box refused the code ZZZZZZZZ: 403 the pairing code is wrong, used or expired')
  t.equal((await pollPairing(box.url, tv)).paired, false, 'no refusal paired the box')

  const paired = await runCliToEnd(['pair', (code as string).toLowerCase(), '--url', box.url])
  t.equal(paired.code, 0, paired.output)
  t.match(paired.output, `is paired with ${devnet.accounts.owner.address}`)
  const state = await pollPairing(box.url, tv)
  t.same([state.paired, state.signedIn], [true, true], 'the TV that showed the code is signed in at its next poll')
})

t.test("retire takes the creator's film out of sale; a guest or another creator is refused", async t => {
  const id = await register(10)
  const retired = async (): Promise<boolean> => ((await creator.getFunction('film')(id)) as { retired: boolean }).retired
  const deployer = new Contract(devnet.contractAddress, creator.interface, new Wallet(devnet.accounts.deployer.privateKey, provider))
  await (await deployer.getFunction('grantRole')(id_('CREATOR_ROLE'), devnet.accounts.otherCollector.address)).wait()
  const otherKey = testDir(t, 'other.key')
  await writeFile(otherKey, `${devnet.accounts.otherCollector.privateKey}\n`, { mode: 0o600 })
  const refused = await runCliToEnd(['retire', id, '--key-file', otherKey, ...chain])
  t.equal(refused.code, 1)
  t.match(
    refused.output,
    `film #${id} is ${devnet.accounts.creator.address}'s: only its creator or the contract's admin can retire it, and ${devnet.accounts.otherCollector.address} is neither`
  )
  // the contract refuses it too, for whoever writes the transaction by hand
  await t.rejects(other.getFunction('retireFilm').staticCall(id), /NotFilmCreator/)
  t.equal(await retired(), false, 'another creator could not retire the film')

  const done = await runCliToEnd(['retire', id, ...chain])
  t.equal(done.code, 0, done.output)
  t.match(done.output, `retired film #${id} (transaction 0x`)
  t.match(done.output, 'next: nobody can buy it any more; the monitor and the storage nodes drop it from their catalogue')
  t.equal(await retired(), true, 'the chain says so')
  const bought = await runCliToEnd(['buy', id, ...chain])
  t.equal(bought.code, 1)
  t.match(bought.output, `seed-one buy: film #${id} is not for sale any more: its creator retired it from the catalogue`)
  t.match((await runCliToEnd(['retire', id, ...chain])).output, `film #${id} is retired already`)
  t.match((await runCliToEnd(['retire', ...chain])).output, 'retire takes one token id, e.g. `seed-one retire 1`')
})
