import t from 'tap'
import { randomBytes } from 'node:crypto'
import path from 'node:path'
import { generateKeyPair } from '@libp2p/crypto/keys'
import type { PrivateKey } from '@libp2p/interface'
import * as raw from 'multiformats/codecs/raw'
import type { CID } from 'multiformats/cid'
import { createStorageNode, StorageNodeConfigError, type StorageNode } from '../server/storage/helia-node.ts'
import {
  ContentError,
  DEFAULT_LEAF_SIZE,
  addBytes,
  addFile,
  isPinned,
  pinWithProgress,
  unpin,
  type PinProgress
} from '../server/storage/content.ts'
import { blockBytes, childCids } from './helpers/blocks.ts'

const MiB = 1024 * 1024

async function startNode(dataDir: string, privateKey: PrivateKey, bootstrap: string[] = []): Promise<StorageNode> {
  return await createStorageNode({ dataDir, privateKey, listen: ['/ip4/127.0.0.1/tcp/0'], bootstrap })
}

/** Yields `bytes` in pieces of uneven sizes, as a network or file stream would. */
async function* unevenPieces(bytes: Uint8Array): AsyncGenerator<Uint8Array> {
  const sizes = [1, 65536, 333_333, 7, 1_500_000]
  for (let at = 0, i = 0; at < bytes.length; i++) {
    const size = sizes[i % sizes.length]
    yield bytes.subarray(at, at + size)
    at += size
  }
}

async function bytesHeld(node: StorageNode, cids: CID[]): Promise<number> {
  let total = 0
  for (const cid of cids) if (await node.blockstore.has(cid)) total += (await blockBytes(node, cid)).byteLength
  return total
}

t.test('add and read back', async t => {
  const node = await startNode(t.testdir(), await generateKeyPair('Ed25519'))
  t.teardown(() => node.close())
  const data = randomBytes(3 * MiB + 777)
  const reported: number[] = []
  const cid = await addFile(node, unevenPieces(data), bytes => reported.push(bytes))

  t.equal(cid.version, 1)
  t.equal(await node.content.fileSize(cid), data.length)
  t.equal(reported.at(-1), data.length, 'progress ends at the file size')
  t.ok(
    reported.every((n, i) => i === 0 || n > reported[i - 1]),
    'progress only grows'
  )
  const leaves = await childCids(node, cid)
  t.equal(leaves.length, 4, 'fixed 1 MiB leaves')
  t.ok(
    leaves.every(leaf => leaf.code === raw.code && leaf.version === 1),
    'raw CIDv1 leaves'
  )

  t.ok(Buffer.from(await node.content.readBytes(cid)).equals(data), 'whole file')
  const slices: Array<[number, number | undefined]> = [
    [0, 1],
    [DEFAULT_LEAF_SIZE - 5, 10],
    [123_456, 2 * MiB],
    [data.length - 1, 1],
    [2 * MiB, undefined]
  ]
  for (const [offset, length] of slices) {
    const got = await node.content.readBytes(cid, { offset, length })
    const want = data.subarray(offset, length == null ? undefined : offset + length)
    t.ok(Buffer.from(got).equals(want), `offset ${offset} length ${length}`)
  }
  const small = await addBytes(node, Buffer.from('seed one'))
  t.equal(Buffer.from(await node.content.readBytes(small)).toString(), 'seed one')
})

t.test('files of more than one DAG level: ranges, and failed reads end cleanly', async t => {
  const node = await startNode(t.testdir(), await generateKeyPair('Ed25519'))
  t.teardown(() => node.close())
  const leaf = 1024
  const data = randomBytes(1100 * leaf + 10) // more leaves than one node links (1024): two levels
  const cid = await addFile(node, unevenPieces(data), undefined, leaf)
  const subtrees = await childCids(node, cid)
  t.equal(subtrees.length, 2, 'the root links two subtrees')
  t.ok(subtrees.every(child => child.code !== raw.code))
  for (const [offset, length] of [
    [1024 * leaf - 100, 300],
    [0, data.length],
    [data.length - 5, 5],
    [77, 0]
  ]) {
    t.ok(
      Buffer.from(await node.content.readBytes(cid, { offset, length })).equals(data.subarray(offset, offset + length)),
      `offset ${offset} length ${length}`
    )
  }
  await t.rejects(node.content.readBytes(cid, { offset: data.length - 5, length: 6 }), ContentError)

  // a block missing in the second subtree, which no peer has: the read fails, the process lives on
  const missing = (await childCids(node, subtrees[1]))[10]
  await node.blockstore.delete(missing)
  await t.rejects(node.content.readBytes(cid, { offset: 1000 * leaf, signal: AbortSignal.timeout(5000) }))
  // a consumer that stops early stops the reads
  let parts = 0
  for await (const _ of node.content.readRange(cid, { offset: 1000 * leaf })) if (++parts === 3) break
  t.equal(parts, 3)
  await new Promise(resolve => setTimeout(resolve, 200)) // an unhandled rejection would fail the test here
})

t.test('blocks and pins survive a restart', async t => {
  const dataDir = t.testdir()
  const key = await generateKeyPair('Ed25519')
  const data = randomBytes(2 * MiB + 5)
  let node = await startNode(dataDir, key)
  const peerId = node.libp2p.peerId.toString()
  const cid = await addFile(node, unevenPieces(data))
  await pinWithProgress(node, cid)
  t.ok(await isPinned(node, cid))
  await node.close()

  node = await startNode(dataDir, key)
  t.teardown(() => node.close())
  t.equal(node.libp2p.peerId.toString(), peerId, 'same identity')
  t.ok(await isPinned(node, cid), 'the pin is still there')
  const leaves = await childCids(node, cid)
  t.equal(await bytesHeld(node, leaves), data.length, 'every leaf is still on disk')
  t.ok(Buffer.from(await node.content.readBytes(cid, { signal: AbortSignal.timeout(5000) })).equals(data))
})

t.test('a second node pins content from the first over bitswap', async t => {
  const dir = t.testdir()
  const a = await startNode(path.join(dir, 'a'), await generateKeyPair('Ed25519'))
  t.teardown(() => a.close())
  const data = randomBytes(8 * MiB + 4321)
  const cid = await addFile(a, unevenPieces(data), undefined, 256 * 1024)
  const leaves = await childCids(a, cid)
  t.equal(leaves.length, 33)

  const bDir = path.join(dir, 'b')
  const bKey = await generateKeyPair('Ed25519')
  const bootstrap = [a.libp2p.getMultiaddrs()[0].toString()]
  let b = await startNode(bDir, bKey, bootstrap)
  t.ok(b.libp2p.getConnections(a.libp2p.peerId).length > 0, 'B dialled its bootstrap peer A')

  // interrupt a first pin early, then restart B and finish it
  const stop = new AbortController()
  await t.rejects(
    pinWithProgress(b, cid, {
      signal: stop.signal,
      onProgress: p => {
        if (p.blocks >= 4) stop.abort()
      }
    })
  )
  t.notOk(await isPinned(b, cid), 'an interrupted pin is not a pin')
  await b.close()
  b = await startNode(bDir, bKey, bootstrap)
  t.teardown(() => b.close())
  const heldBefore = await bytesHeld(b, leaves)
  t.ok(heldBefore > 0 && heldBefore < data.length, `the interrupted pin left ${heldBefore} bytes on disk`)

  const seen: PinProgress[] = []
  await pinWithProgress(b, cid, { onProgress: p => seen.push(p) })
  const last = seen.at(-1)
  t.equal(last?.bytes, data.length, 'progress reaches the full size')
  t.equal(last?.blocks, leaves.length + 1, 'every block, root included')
  t.ok(
    seen.every((p, i) => i === 0 || (p.bytes >= seen[i - 1].bytes && p.blocks === seen[i - 1].blocks + 1)),
    'progress only grows'
  )
  t.equal(last?.fetchedBytes, data.length - heldBefore, 'blocks already held were not fetched again')
  t.ok(await isPinned(b, cid))

  await a.close()
  t.ok(Buffer.from(await b.content.readBytes(cid, { signal: AbortSignal.timeout(5000) })).equals(data), 'B holds everything itself')

  let calls = 0
  await pinWithProgress(b, cid, {
    onProgress: () => {
      calls++
    }
  })
  t.equal(calls, 0, 'pinning again is a no-op')
  await unpin(b, cid)
  t.notOk(await isPinned(b, cid))
  await unpin(b, cid)
  t.notOk(await isPinned(b, cid), 'unpinning twice is fine')
})

t.test('bootstrap addresses must name a peer', async t => {
  const dataDir = t.testdir()
  await t.rejects(
    createStorageNode({ dataDir, privateKey: await generateKeyPair('Ed25519'), listen: [], bootstrap: ['/ip4/127.0.0.1/tcp/4001'] }),
    StorageNodeConfigError
  )
  await t.rejects(
    createStorageNode({ dataDir, privateKey: await generateKeyPair('Ed25519'), listen: [], bootstrap: ['not an address'] }),
    StorageNodeConfigError
  )
})

t.test('a range of a file held only by a peer is read over bitswap without pinning it', async t => {
  const dir = t.testdir()
  const a = await startNode(path.join(dir, 'a'), await generateKeyPair('Ed25519'))
  t.teardown(() => a.close())
  const data = randomBytes(3 * MiB + 777)
  const cid = await addFile(a, unevenPieces(data))
  const b = await startNode(path.join(dir, 'b'), await generateKeyPair('Ed25519'), [a.libp2p.getMultiaddrs()[0].toString()])
  t.teardown(() => b.close())

  const offset = MiB - 100
  const length = MiB + 200
  const range = await b.content.readBytes(cid, { offset, length, signal: AbortSignal.timeout(10_000) })
  t.ok(Buffer.from(range).equals(data.subarray(offset, offset + length)), 'the range across two leaves equals the slice')
  t.notOk(await isPinned(b, cid), 'reading does not pin')
  const leaves = await childCids(a, cid)
  t.equal(await bytesHeld(b, [leaves[3]]), 0, 'a leaf outside the range was not fetched')
})
