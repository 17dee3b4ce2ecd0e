// A film's registration is kept signed before it is sent, so a publish killed anywhere around it and
// rerun registers the film once (server/publish/registration.ts), on the real devnet.
import t from 'tap'
import { Wallet } from 'ethers'
import { completeRegistration, signRegistration } from '../server/publish/registration.ts'
import { connectDevnet, startTestDevnet } from './helpers/devnet.ts'

const devnet = await startTestDevnet(t)
const { creator, provider } = connectDevnet(t, devnet)
const filmCount = async (): Promise<number> => Number(await creator.getFunction('filmCount')())
const args = (name: string): unknown[] => [`ipfs://${name}`, 1000n, 100n, [100n], devnet.accounts.creator.address, 500]

t.test('a kept registration is sent once, and completing it again answers the same film', async t => {
  const before = await filmCount()
  const kept = await signRegistration(creator, args('once'))
  t.equal(await filmCount(), before, 'signing sends nothing')
  const first = await completeRegistration(creator, kept)
  t.same(first, { state: 'mined', tokenId: BigInt(before + 1) })
  // the rerun of a publish killed after the registration was mined, before it was recorded
  t.same(await completeRegistration(creator, kept), first)
  t.equal(await filmCount(), before + 1, 'registered once')
})

t.test('a registration still waiting to be mined is waited for, not sent again', async t => {
  const before = await filmCount()
  const kept = await signRegistration(creator, args('pending'))
  await provider.send('evm_setAutomine', [false])
  t.teardown(() => provider.send('evm_setAutomine', [true]))
  await provider.broadcastTransaction(kept.signedTx)
  // the rerun finds it in the pool ("already known") and waits for the block that mines it
  const completing = completeRegistration(creator, kept)
  await new Promise(resolve => setTimeout(resolve, 300))
  await provider.send('evm_mine', [])
  t.same(await completing, { state: 'mined', tokenId: BigInt(before + 1) })
  t.equal(await filmCount(), before + 1)
})

t.test('a kept registration whose nonce another transaction took is void: the film is registered afresh', async t => {
  const before = await filmCount()
  const kept = await signRegistration(creator, args('void'))
  // the creator's wallet spends that nonce elsewhere before the kept registration goes out
  const wallet = new Wallet(devnet.accounts.creator.privateKey, provider)
  await (await wallet.sendTransaction({ to: devnet.accounts.otherCollector.address, value: 1n })).wait()
  t.match(await completeRegistration(creator, kept), { state: 'void', reason: /took nonce/ })
  t.equal(await filmCount(), before, 'nothing registered')
})

t.test('a registration that would revert is refused before anything is kept or sent', async t => {
  await t.rejects(signRegistration(creator, ['', 1000n, 100n, [100n], devnet.accounts.creator.address, 500]), /EmptyMetadataUri|revert/)
})
