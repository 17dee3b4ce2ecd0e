import { appendFile } from 'node:fs/promises'
import { join } from 'node:path'
import t from 'tap'
import { parseEther } from 'ethers'
import { connectDevnet, startTestDevnet } from './helpers/devnet.ts'

async function rpc(url: string, body: string): Promise<{ status: number; json: unknown }> {
  const res = await fetch(url, { method: 'POST', headers: { 'content-type': 'application/json' }, body })
  const text = await res.text()
  return { status: res.status, json: text === '' ? undefined : JSON.parse(text) }
}

t.test('JSON-RPC over HTTP: single, batch, notification and bad input', async t => {
  const devnet = await startTestDevnet(t)
  t.match(devnet.rpcUrl, /^http:\/\/127\.0\.0\.1:\d+$/)
  t.not(devnet.rpcUrl, 'http://127.0.0.1:0')

  const single = await rpc(devnet.rpcUrl, JSON.stringify({ jsonrpc: '2.0', id: 7, method: 'eth_chainId', params: [] }))
  t.same(single, { status: 200, json: { jsonrpc: '2.0', id: 7, result: '0x7a69' } })

  const batch = await rpc(
    devnet.rpcUrl,
    JSON.stringify([
      { jsonrpc: '2.0', id: 'a', method: 'eth_getBalance', params: [devnet.accounts.owner.address, 'latest'] },
      { jsonrpc: '2.0', method: 'eth_chainId', params: [] },
      { jsonrpc: '2.0', id: 'b', method: 'no_such_method', params: [] },
      { jsonrpc: '2.0', id: 'c', params: [] }
    ])
  )
  t.equal(batch.status, 200)
  const [balance, unknown, invalid, ...rest] = batch.json as { id: unknown; result?: string; error?: { code: number } }[]
  t.same(rest, [], 'the notification gets no response')
  t.same([balance!.id, BigInt(balance!.result!)], ['a', parseEther('10000')])
  t.equal(unknown!.id, 'b')
  t.ok(unknown!.error!.code < 0, 'unknown method is an error object')
  t.same(invalid, { jsonrpc: '2.0', id: 'c', error: { code: -32600, message: 'method must be a non-empty string' } })

  t.same(await rpc(devnet.rpcUrl, '{"jsonrpc":"2.0","id":1,"method":'), {
    status: 200,
    json: { jsonrpc: '2.0', id: null, error: { code: -32700, message: 'Parse error: body is not valid JSON' } }
  })
  t.same((await rpc(devnet.rpcUrl, '[]')).json, { jsonrpc: '2.0', id: null, error: { code: -32600, message: 'batch must not be empty' } })
  t.same(await rpc(devnet.rpcUrl, JSON.stringify({ jsonrpc: '2.0', method: 'eth_chainId' })), { status: 204, json: undefined })

  const huge = JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'eth_chainId', params: ['x'.repeat(6 * 1024 * 1024)] })
  t.equal((await rpc(devnet.rpcUrl, huge)).status, 413)
  t.equal((await fetch(devnet.rpcUrl)).status, 405)
})

t.test('contract deployed, creator role granted, reverts decode as custom errors in ethers', async t => {
  const devnet = await startTestDevnet(t)
  const { creator, owner } = connectDevnet(t, devnet)
  t.equal(devnet.chainId, 31337)
  t.ok(devnet.deploymentBlock >= 1)
  t.equal(await owner.hasRole!(await owner.CREATOR_ROLE!(), devnet.accounts.creator.address), true)

  await t.rejects(owner.buy!.staticCall(999, 1), { code: 'CALL_EXCEPTION', revert: { name: 'UnknownFilm', args: [999n] } })
  // A transaction reverts in gas estimation; its revert data reaches ethers intact.
  const err = await owner.registerFilm!('ipfs://x', 1, 1, [], devnet.accounts.owner.address, 0).catch((e: unknown) => e)
  t.match(err, { code: 'CALL_EXCEPTION' })
  t.match(owner.interface.parseError((err as { data: string }).data), { name: 'AccessControlUnauthorizedAccount' })

  await (await creator.registerFilm!('ipfs://film', parseEther('0.01'), 10, [3], devnet.accounts.creator.address, 500)).wait()
  await t.rejects(owner.buy!.staticCall(1, 2, { value: parseEther('0.01') }), {
    code: 'CALL_EXCEPTION',
    revert: { name: 'InsufficientPayment', args: [parseEther('0.02'), parseEther('0.01')] }
  })
})

t.test('a restart on the same stateDir keeps the chain, also after a torn journal line', async t => {
  const stateDir = t.testdir()
  const first = await startTestDevnet(t, { stateDir })
  const a = connectDevnet(t, first)
  await (await a.creator.registerFilm!('ipfs://kept', parseEther('0.01'), 100, [5], first.accounts.creator.address, 250)).wait()
  const purchase = await (await a.owner.buy!(1, 2, { value: parseEther('0.02') })).wait()
  // mined although it reverted (explicit gas skips estimation): replay must reproduce the failure too
  const reverted = await a.other.buy!(1, 0, { gasLimit: 200_000 })
  await t.rejects(reverted.wait(), { code: 'CALL_EXCEPTION' })
  await a.provider.send('evm_mine', [])
  const head = await a.provider.getBlock('latest')
  const headAge = head!.timestamp - (await a.provider.getBlock(0))!.timestamp
  const ownerBalance = await a.provider.getBalance(first.accounts.owner.address)
  await first.close()

  // kill -9 in the middle of an append leaves half a line behind
  await appendFile(join(stateDir, 'journal.jsonl'), '{"method":"eth_sendRawTransaction","params":["0x02f8')

  const second = await startTestDevnet(t, { stateDir })
  const b = connectDevnet(t, second)
  t.equal(second.contractAddress, first.contractAddress)
  t.equal(second.deploymentBlock, first.deploymentBlock)
  t.equal(await b.provider.getBlockNumber(), head!.number)
  const replayedAge = (await b.provider.getBlock(head!.number))!.timestamp - (await b.provider.getBlock(0))!.timestamp
  t.equal(replayedAge, headAge, 'block times after genesis reproduced on replay')
  t.equal((await b.provider.getBlock(head!.number))!.hash, head!.hash, 'the replayed chain has the same block hashes')
  t.equal((await b.provider.getTransactionReceipt(purchase!.hash))!.blockNumber, purchase!.blockNumber)
  t.equal((await b.provider.getTransactionReceipt(reverted.hash))!.status, 0)
  t.equal(await b.owner.uri!(1), 'ipfs://kept')
  t.equal(await b.owner.balanceOf!(second.accounts.owner.address, 1), 2n)
  t.equal(await b.owner.rightsTier!(second.accounts.owner.address, 1), 1n)
  t.equal(await b.provider.getBalance(second.accounts.owner.address), ownerBalance)

  // appends after the torn line start on a clean line: a third start sees them
  await (await b.owner.buy!(1, 3, { value: parseEther('0.03') })).wait()
  const after = await b.provider.getBlock('latest')
  t.ok(after!.timestamp >= Math.floor(Date.now() / 1000) - 5, 'new blocks follow the wall clock after a restart')
  await second.close()

  const third = await startTestDevnet(t, { stateDir })
  const c = connectDevnet(t, third)
  t.equal(await c.owner.balanceOf!(third.accounts.owner.address, 1), 5n)
  t.equal(await c.owner.rightsTier!(third.accounts.owner.address, 1), 2n)
  t.equal(await c.provider.getBlockNumber(), after!.number)
})
