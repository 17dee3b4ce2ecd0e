import * as dagPb from '@ipld/dag-pb'
import type { CID } from 'multiformats/cid'

/** The bytes of a block, already checked against its CID. */
export type FetchBlock = (cid: CID) => Promise<Uint8Array>

interface DagNode {
  cid: CID
  /** Children and their weights (cumulative size), once the block has been read; [] for a leaf. */
  children?: Array<{ node: DagNode; weight: number }>
  /** Every leaf under it has been picked. */
  exhausted: boolean
}

/** Limits the walk when one leaf appears at many places in a DAG (equal chunks share a CID). */
const ATTEMPTS_PER_PICK = 8

/**
 * Up to `count` distinct leaf blocks of the DAG under `root`, picked at random by descending from the
 * root, each step choosing a child weighted by the size below it (so every byte of the content is
 * equally likely to be probed), never the same leaf twice: when the DAG has no more than `count`
 * leaves, all of them. Reads only the inner (dag-pb) blocks on the paths taken; raw leaves are named
 * by their parents' links, not read.
 */
export async function sampleLeaves(root: CID, count: number, fetchBlock: FetchBlock, random: () => number = Math.random): Promise<CID[]> {
  const top: DagNode = { cid: root, exhausted: false }
  const picked = new Map<string, CID>()
  for (let attempt = 0; picked.size < count && !top.exhausted && attempt < count * ATTEMPTS_PER_PICK; attempt++) {
    const leaf = await descend(top, fetchBlock, random)
    picked.set(leaf.toString(), leaf)
  }
  return [...picked.values()]
}

async function descend(node: DagNode, fetchBlock: FetchBlock, random: () => number): Promise<CID> {
  node.children ??= await childrenOf(node.cid, fetchBlock)
  const open = node.children.filter(child => !child.node.exhausted)
  if (open.length === 0) {
    node.exhausted = true
    return node.cid
  }
  let point = random() * open.reduce((sum, child) => sum + child.weight, 0)
  const chosen = open.find(child => (point -= child.weight) < 0) ?? open[open.length - 1]
  const leaf = await descend(chosen.node, fetchBlock, random)
  if (node.children.every(child => child.node.exhausted)) node.exhausted = true
  return leaf
}

/** A dag-pb block's links; any other block (raw, or a codec that is not UnixFS's) is a leaf. */
async function childrenOf(cid: CID, fetchBlock: FetchBlock): Promise<NonNullable<DagNode['children']>> {
  if (cid.code !== dagPb.code) return []
  const links = dagPb.decode(await fetchBlock(cid)).Links
  return links.map(link => ({ node: { cid: link.Hash, exhausted: false }, weight: Math.max(1, link.Tsize ?? 1) }))
}
