// A block fetched over bitswap, lost, and asked for again from the peer that sent it (the replication
// flake, issue 15): two real storage nodes on loopback, bitswap only (no block route).
import t from 'tap'
import { randomBytes } from 'node:crypto'
import { generateKeyPair } from '@libp2p/crypto/keys'
import { addBytes } from '../server/storage/content.ts'
import { createStorageNode, type StorageNode } from '../server/storage/helia-node.ts'
import { testDir, type Test } from './helpers/in-process.ts'

/**
 * Long enough for bitswap's do-not-resend window (5 s in @helia/bitswap 4.0.19) and any CPU
 * contention; a block that comes comes within milliseconds on loopback.
 */
const FETCH_TIMEOUT_MS = 30_000

async function startNode(t: Test, name: string, bootstrap: string[] = []): Promise<StorageNode> {
  const helia = await createStorageNode({
    dataDir: testDir(t, name),
    privateKey: await generateKeyPair('Ed25519'),
    listen: ['/ip4/127.0.0.1/tcp/0'],
    bootstrap
  })
  t.teardown(() => helia.close())
  return helia
}

t.test('a block asked for again from the peer that sent it comes again, each time', async t => {
  const holder = await startNode(t, 'holder')
  const fetcher = await startNode(t, 'fetcher', holder.libp2p.getMultiaddrs().map(String))
  const bytes = randomBytes(4096)
  const cid = await addBytes(holder, bytes)

  // from the second round on, the holder gets a want for a block it recorded as sent to this peer
  for (let round = 1; round <= 3; round++) {
    const got = await fetcher.fetcher.fetch(cid, { root: cid, priority: 'pin', signal: AbortSignal.timeout(FETCH_TIMEOUT_MS) }).then(
      fetched => (Buffer.from(fetched).equals(bytes) ? 'the block' : 'other bytes'),
      (err: Error) => `nothing: ${err.message}`
    )
    t.equal(got, 'the block', `round ${round}: the block came over bitswap`)
    if (got !== 'the block') return
    // lost (a deleted replica's block, collected garbage): the next read must fetch it again
    await fetcher.blockstore.delete(cid)
  }
})

t.test('a read of a block given up does not take the want from another read of it', async t => {
  const without = await startNode(t, 'without')
  const holder = await startNode(t, 'holder')
  const fetcher = await startNode(t, 'fetcher', without.libp2p.getMultiaddrs().map(String))
  const bytes = randomBytes(4096)
  const cid = await addBytes(holder, bytes)

  const waiting = fetcher.fetcher.fetch(cid, { root: cid, priority: 'pin', signal: AbortSignal.timeout(FETCH_TIMEOUT_MS) }).then(
    fetched => (Buffer.from(fetched).equals(bytes) ? 'the block' : 'other bytes'),
    (err: Error) => `nothing: ${err.message}`
  )
  const givenUp = new AbortController()
  const other = fetcher.fetcher.fetch(cid, { root: cid, priority: 'playback', signal: givenUp.signal }).catch(err => err as Error)
  // a few of bitswap's 10 ms debounces of want-list sends, so the abort has been acted on
  await new Promise(resolve => setTimeout(resolve, 100))
  givenUp.abort()
  t.type(await other, Error, 'the read given up ends')
  await new Promise(resolve => setTimeout(resolve, 100))
  // a peer that holds the block connects only now: it must hear of the want still waiting
  await fetcher.libp2p.dial(holder.libp2p.getMultiaddrs()[0])
  t.equal(await waiting, 'the block', 'the read still waiting gets the block from the new peer')
})
