// Boxes on one LAN find each other by mDNS (real multicast on this machine's interfaces), and only
// boxes that turn it on take part.
import t from 'tap'
import { generateKeyPair } from '@libp2p/crypto/keys'
import { createStorageNode, type StorageNode } from '../server/storage/helia-node.ts'
import { testDir, type Test } from './helpers/in-process.ts'
import { waitFor } from './helpers/wait-for.ts'

async function node(t: Test, name: string, mdns: boolean): Promise<StorageNode> {
  const helia = await createStorageNode({
    dataDir: testDir(t, name),
    privateKey: await generateKeyPair('Ed25519'),
    listen: ['/ip4/127.0.0.1/tcp/0'],
    bootstrap: [],
    mdns
  })
  t.teardown(() => helia.close())
  return helia
}

const connected = (a: StorageNode, b: StorageNode): boolean => a.libp2p.getConnections(b.libp2p.peerId).length > 0

t.test('two boxes with mDNS on and no peers configured find and dial each other; one with it off stays apart', async t => {
  const a = await node(t, 'a', true)
  const b = await node(t, 'b', true)
  const hidden = await node(t, 'hidden', false)
  await waitFor('the two mDNS boxes to connect', async () => connected(a, b), { timeoutMs: 30_000 })
  t.pass('connected without a configured peer')
  t.notOk(connected(a, hidden) || connected(b, hidden), 'the box without mDNS was neither found nor dialled')
})
