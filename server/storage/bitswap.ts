// Bitswap on a storage node: what it serves peers from, and how Helia hands it fetched blocks.
import { start, type Libp2p, type Startable } from '@libp2p/interface'
import type { BlockBroker, Blocks, Helia, SessionBlockBroker } from 'helia'
import type { CID } from 'multiformats/cid'
import { BitswapBlockBroker } from './helia-parts.ts'
import { forgetEndedWant, honourRepeatedWants, sharedWants, type BitswapInternals } from './bitswap-rewants.ts'

/**
 * Installs bitswap on `helia`, once, before it starts: what `withBitswap` does (a mixin that builds the
 * broker as the node starts, when libp2p runs), with two differences neither Helia 7 nor
 * @helia/bitswap 4 has an option for:
 * - bitswap serves peers from `servingBlockstore(helia.blockstore)` when given (quiet hours and the
 *   upload cap: server/replication/peer-serving.ts): `withBitswap` takes no blockstore and builds its
 *   broker on the node's own;
 * - Helia hands the broker fetched blocks without the signal of the read that fetched them
 *   (AnnounceWithoutSignal).
 * And a block wanted again is asked for again (forgetEndedWant), a read given up does not cancel
 * the want of another read of the block (sharedWants), and a peer that asks again for a block it
 * was sent gets it again (honourRepeatedWants).
 */
export function installBitswap(helia: Helia & { libp2p: Libp2p }, servingBlockstore?: (blocks: Blocks) => Blocks): void {
  helia.addMixin({
    name: 'bitswap',
    start: async () => {
      // a node started again keeps the broker it had (Helia starts and stops its brokers)
      if (helia.hasBlockBroker('bitswap')) return
      const { libp2p, routing, logger, getHasher, metrics } = helia
      const blockstore = servingBlockstore?.(helia.blockstore) ?? helia.blockstore
      const bitswap = new BitswapBlockBroker({ libp2p, routing, logger, getHasher, metrics, blockstore })
      const internals = (bitswap as unknown as { bitswap: BitswapInternals }).bitswap
      honourRepeatedWants(internals)
      await start(bitswap)
      helia.addBlockBroker(new AnnounceWithoutSignal(bitswap, internals))
    }
  })
}

/**
 * Helia announces a fetched block to its brokers with the options of the read that fetched it, signal
 * included (Helia 7's Storage.put and get pass their options through; no option drops the signal),
 * and bitswap queues its sends of that block to the peers that want it too under that signal. When
 * the read ends (readRange aborts its reads when done; a timeout; a pin's stall) those sends are cut
 * short and bitswap does not try them again: those peers wait until they give up and ask anew. So
 * this broker, bitswap's in all else, announces without the signal; the sends have their own timeouts.
 * Its reads go through sharedWants and forgetEndedWant (bitswap-rewants.ts).
 */
class AnnounceWithoutSignal implements BlockBroker, Startable {
  readonly name: string
  readonly #broker: Bitswap
  readonly #retrieve: Bitswap['retrieve']

  constructor(broker: Bitswap, internals: BitswapInternals) {
    this.name = broker.name
    this.#broker = broker
    this.#retrieve = sharedWants(async (cid, options) => {
      forgetEndedWant(internals, cid)
      return await broker.retrieve(cid, options)
    })
  }

  async start(): Promise<void> {
    await this.#broker.start()
  }

  async stop(): Promise<void> {
    await this.#broker.stop()
  }

  async announce(cid: CID, options?: { signal?: AbortSignal }): Promise<void> {
    await this.#broker.announce(cid, withoutSignal(options))
  }

  async retrieve(...args: Parameters<Bitswap['retrieve']>): Promise<Uint8Array> {
    return await this.#retrieve(...args)
  }

  createSession(...args: Parameters<Bitswap['createSession']>): SessionBlockBroker {
    const session = this.#broker.createSession(...args)
    const announce = session.announce?.bind(session)
    return announce === undefined ? session : { ...session, announce: async (cid, options) => await announce(cid, withoutSignal(options)) }
  }
}

type Bitswap = InstanceType<typeof BitswapBlockBroker>

function withoutSignal<T extends { signal?: AbortSignal }>(options: T | undefined): Omit<T, 'signal'> | undefined {
  if (options === undefined) return undefined
  const { signal: _signal, ...rest } = options
  return rest
}
