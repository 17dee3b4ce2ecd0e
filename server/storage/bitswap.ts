// Bitswap on a storage node: what it serves peers from, and how Helia hands it fetched blocks.
import { withBitswap } from '@helia/bitswap'
import type { BlockBroker, Blocks, Helia } from 'helia'
import type { Libp2p } from '@libp2p/interface'

/**
 * Adds bitswap to `helia` and starts the node. Bitswap is built during start and keeps the
 * blockstore it is handed then: with `servingBlockstore` it gets that wrapper of the node's own
 * store (quiet hours and the upload cap: server/replication/peer-serving.ts), which the node keeps.
 */
export async function startWithBitswap(helia: Helia & { libp2p: Libp2p }, servingBlockstore?: (blocks: Blocks) => Blocks): Promise<void> {
  withBitswap(helia)
  const own = helia.blockstore
  if (servingBlockstore !== undefined) helia.blockstore = servingBlockstore(own)
  const addBlockBroker = helia.addBlockBroker.bind(helia)
  helia.addBlockBroker = broker => addBlockBroker(typeof broker === 'function' ? broker : announceWithoutSignal(broker))
  try {
    await helia.start()
  } finally {
    helia.blockstore = own
  }
}

/**
 * Helia announces a fetched block to bitswap with the options of the read that fetched it, signal
 * included, and bitswap queues its sends of that block to the peers that want it too under that
 * signal. When the read ends (readRange aborts its reads when done; a timeout; a pin's stall) those
 * sends are cut short and bitswap does not try them again: those peers wait until they give up and
 * ask anew. The announce gets no signal; the sends have their own timeouts.
 */
function announceWithoutSignal(broker: BlockBroker): BlockBroker {
  const detach = <T extends { signal?: AbortSignal }>(options?: T): Omit<T, 'signal'> | undefined => {
    if (options === undefined) return undefined
    const { signal: _signal, ...rest } = options
    return rest
  }
  const announce = broker.announce?.bind(broker)
  if (announce !== undefined) broker.announce = async (cid, options) => await announce(cid, detach(options))
  const createSession = broker.createSession?.bind(broker)
  if (createSession !== undefined) {
    broker.createSession = options => {
      const session = createSession(options)
      const sessionAnnounce = session.announce?.bind(session)
      if (sessionAnnounce !== undefined)
        session.announce = async (cid, announceOptions) => await sessionAnnounce(cid, detach(announceOptions))
      return session
    }
  }
  return broker
}
