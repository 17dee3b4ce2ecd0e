// What this box gives other boxes, by any path (bitswap, the block route): nothing in the owner's
// quiet hours, at most the upload cap otherwise, and less while the box is streaming to its own
// screens (local playback comes first: DESIGN decision 7).
import type { Blocks } from 'helia'
import type { CID } from 'multiformats/cid'
import type { SettingsStore } from '../settings/settings.ts'
import { createQuietHours, type QuietHours } from './quiet-hours.ts'
import { createTokenBucket } from './token-bucket.ts'
import { heldBlock } from '../storage/content.ts'

/** Upload to peers while the box streams a film to its own screen: what a home uplink spares next to playback. */
export const STREAMING_PEER_BYTES_PER_SEC = 1024 * 1024

export interface PeerServingFigures {
  /** Block bytes sent to peers (bitswap and the block route). */
  servedBytes: number
  /** Blocks peers asked for and were refused because of quiet hours. */
  refusedBlocks: number
}

export interface PeerServing {
  quietHours: QuietHours
  /** Waits until `bytes` may go to a peer. */
  pace(bytes: number, signal?: AbortSignal): Promise<void>
  /** Counts bytes sent to a peer, and blocks refused. */
  served(bytes: number): void
  refused(): void
  figures(): PeerServingFigures
  /** The blockstore bitswap serves peers' wants from: empty in quiet hours, paced by the cap. */
  bitswapBlockstore(blocks: Blocks): Blocks
  /** Tells it how many film streams the box is sending to its own screens now (known once the HTTP server exists). */
  setActiveStreams(count: () => number): void
  close(): Promise<void>
}

/** Named like interface-store's error, which bitswap's ledger takes as "do not have". */
class NotServedError extends Error {
  override name = 'NotFoundError'
}

export async function createPeerServing(settings: SettingsStore): Promise<PeerServing> {
  const quietHours = await createQuietHours(settings)
  let cap = (await settings.get()).replication.uploadCapBytesPerSec
  const unsubscribe = settings.onChange(next => {
    cap = next.replication.uploadCapBytesPerSec
  })
  let activeStreams = (): number => 0
  const rate = (): number => (activeStreams() > 0 ? Math.min(cap === 0 ? Infinity : cap, STREAMING_PEER_BYTES_PER_SEC) : cap)
  const bucket = createTokenBucket(rate)
  const figures: PeerServingFigures = { servedBytes: 0, refusedBlocks: 0 }

  const serving: PeerServing = {
    quietHours,
    pace: (bytes, signal) => bucket.take(bytes, signal),
    served(bytes) {
      figures.servedBytes += bytes
    },
    refused() {
      figures.refusedBlocks++
    },
    figures: () => ({ ...figures }),
    bitswapBlockstore: blocks => gateBitswap(blocks, serving),
    setActiveStreams(count) {
      activeStreams = count
    },
    async close() {
      unsubscribe()
      await quietHours.close()
    }
  }
  return serving
}

/**
 * Bitswap's ledger answers a peer's want with `has` then `get` on the blockstore it was built with,
 * and uses that blockstore for nothing else (@helia/bitswap 4: peer-want-lists/ledger.ts), so this
 * one only ever serves peers: in quiet hours it has nothing, and each block waits for the cap.
 */
function gateBitswap(blocks: Blocks, serving: PeerServing): Blocks {
  const quiet = (): boolean => serving.quietHours.quiet()
  async function* get(cid: CID, options: { signal?: AbortSignal } = {}): AsyncGenerator<Uint8Array> {
    if (quiet()) {
      serving.refused()
      throw new NotServedError(`quiet hours: ${cid} is not served to peers now`)
    }
    // held only: serving a peer must never make this box fetch the block from others
    const bytes = await heldBlock(blocks, cid, options.signal)
    // gone since bitswap asked `has` (a release): for bitswap, that is "do not have"
    if (bytes === undefined) throw new NotServedError(`${cid} is no longer held`)
    await serving.pace(bytes.byteLength, options.signal)
    serving.served(bytes.byteLength)
    yield bytes
  }
  async function has(cid: CID, options?: { signal?: AbortSignal }): Promise<boolean> {
    if (!quiet()) return await blocks.has(cid, options)
    serving.refused()
    return false
  }
  return new Proxy(blocks, {
    get(target, property) {
      if (property === 'has') return has
      if (property === 'get') return get
      const value: unknown = Reflect.get(target, property, target)
      return typeof value === 'function' ? value.bind(target) : value
    }
  })
}
