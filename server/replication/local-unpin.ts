import type { GraphNode, GraphWalkerFactory, Helia } from 'helia'
import { createUnsafe } from 'multiformats/block'
import type { CID } from 'multiformats/cid'
import { isPinned } from '../storage/content.ts'
import { isNotHeld } from '../storage/content.ts'

/**
 * Walks only the blocks on this node's disk. Helia's own walkers fetch what is missing, so unpinning a
 * replica that lost blocks (a failing disk; a node that failed its challenges for it) would wait on
 * the network for blocks it is about to let go of.
 */
const localWalker: GraphWalkerFactory = ({ blockstore, getCodec }) => ({
  async *walk(root, options = {}) {
    const maxDepth = options.depth ?? Infinity
    const queue: Array<{ cid: CID; depth: number; path: CID[] }> = [{ cid: root, depth: 0, path: [root] }]
    for (let next = queue.shift(); next !== undefined; next = queue.shift()) {
      const parts: Uint8Array[] = []
      try {
        // `offline` is Helia's (its networked store takes it); interface-blockstore's type does not list it
        for await (const part of blockstore.get(next.cid, { signal: options.signal, offline: true } as { signal?: AbortSignal }))
          parts.push(part)
      } catch (err) {
        if (isNotHeld(err)) continue // nothing here to release
        throw err
      }
      const block = createUnsafe({ cid: next.cid, bytes: Buffer.concat(parts), codec: await getCodec(next.cid.code) })
      if (next.depth < maxDepth) {
        for (const [, child] of block.links()) queue.push({ cid: child, depth: next.depth + 1, path: [...next.path, child] })
      }
      yield { block, depth: next.depth, path: next.path } as GraphNode<any>
    }
  }
})

/** Removes a pin without fetching anything; no pin is not an error. */
export async function unpinLocal(helia: Helia, cid: CID, signal?: AbortSignal): Promise<void> {
  if (!(await isPinned(helia, cid))) return
  for await (const _ of helia.pins.rm(cid, { walker: localWalker, signal })) {
    /* drain */
  }
}
