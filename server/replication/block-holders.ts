// Which boxes a box asks over HTTP for the blocks of a DAG (storage/block-fetcher.ts): those the
// monitor's registry lists live, holding that DAG in full and not failing its challenges. The
// registry is read when a fetch needs it, at most once per REREAD_MS; while the monitor does not
// answer, the last registry read here or, after a restart, the snapshot the node set keeps on disk.
import type { CID } from 'multiformats/cid'
import type { RegistryNode } from '../wire/monitor-protocol.ts'
import type { BlockHolders } from '../storage/block-fetcher.ts'
import type { Store } from '../storage/state-db.ts'
import { fetchRegistry, SNAPSHOT_KEY } from './node-set.ts'

const REREAD_MS = 30_000

export interface RegistryHoldersOptions {
  monitorUrl: string
  selfId: string
  /** The node set's snapshot of the registry (the 'replication' section). */
  store: Store<'replication'>
}

export function registryHolders(opts: RegistryHoldersOptions): BlockHolders {
  let nodes: RegistryNode[] | undefined
  let readAt = Number.NEGATIVE_INFINITY
  let reading: Promise<void> | undefined

  const read = async (): Promise<void> => {
    try {
      nodes = (await fetchRegistry(opts.monitorUrl)).nodes
    } catch {
      nodes ??= (await opts.store.get(SNAPSHOT_KEY))?.nodes ?? []
    }
    // a failed read counts too: a monitor that is down is not asked again for every block
    readAt = Date.now()
  }

  return async (root: CID) => {
    if (Date.now() - readAt > REREAD_MS) {
      reading ??= read().finally(() => {
        reading = undefined
      })
      await reading
    }
    const cid = root.toString()
    return (nodes ?? [])
      .filter(node => node.live && node.deviceId !== opts.selfId && node.held.includes(cid) && !node.failed.includes(cid))
      .map(node => node.apiUrl)
  }
}
