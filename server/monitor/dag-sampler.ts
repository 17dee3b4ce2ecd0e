import * as dagPb from '@ipld/dag-pb'
import type { CID } from 'multiformats/cid'
import { DagBoundsError, MAX_DEPTH, MAX_LINKS } from '../wire/dag-bounds.ts'

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
 * by their parents' links, not read. A block linked from several places is one node, read once; a
 * node of more than MAX_LINKS links or deeper than MAX_DEPTH is refused (DagBoundsError).
 */
export async function sampleLeaves(root: CID, count: number, fetchBlock: FetchBlock, random: () => number = Math.random): Promise<CID[]> {
  const top: DagNode = { cid: root, exhausted: false }
  const nodes = new Map<string, DagNode>([[root.toString(), top]])
  const picked = new Map<string, CID>()
  for (let attempt = 0; picked.size < count && !top.exhausted && attempt < count * ATTEMPTS_PER_PICK; attempt++) {
    const leaf = await descend(top, 0, { fetchBlock, random, nodes })
    picked.set(leaf.toString(), leaf)
  }
  return [...picked.values()]
}

interface Walk {
  fetchBlock: FetchBlock
  random: () => number
  /** Every node met so far, by CID. */
  nodes: Map<string, DagNode>
}

async function descend(node: DagNode, depth: number, walk: Walk): Promise<CID> {
  node.children ??= await childrenOf(node.cid, depth, walk)
  const open = node.children.filter(child => !child.node.exhausted)
  if (open.length === 0) {
    node.exhausted = true
    return node.cid
  }
  let point = walk.random() * open.reduce((sum, child) => sum + child.weight, 0)
  const chosen = open.find(child => (point -= child.weight) < 0) ?? open[open.length - 1]
  const leaf = await descend(chosen.node, depth + 1, walk)
  if (node.children.every(child => child.node.exhausted)) node.exhausted = true
  return leaf
}

/** A dag-pb block's links, `depth` links below the root; any other block (raw, or a codec that is not UnixFS's) is a leaf. */
async function childrenOf(cid: CID, depth: number, walk: Walk): Promise<NonNullable<DagNode['children']>> {
  if (cid.code !== dagPb.code) return []
  const links = dagPb.decode(await walk.fetchBlock(cid)).Links
  if (links.length > MAX_LINKS) throw new DagBoundsError(`block ${cid} has ${links.length} links, more than ${MAX_LINKS}`)
  if (links.length > 0 && depth >= MAX_DEPTH) throw new DagBoundsError(`block ${cid} is more than ${MAX_DEPTH} links below the root`)
  return links.map(link => {
    const key = link.Hash.toString()
    let node = walk.nodes.get(key)
    if (node === undefined) walk.nodes.set(key, (node = { cid: link.Hash, exhausted: false }))
    return { node, weight: Math.max(1, link.Tsize ?? 1) }
  })
}
