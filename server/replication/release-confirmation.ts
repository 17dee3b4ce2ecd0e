import type { RegistryNode } from '../wire/monitor-protocol.ts'

/**
 * When a surplus replica may go: once each of the k nodes it is assigned to has said it holds it in
 * a report the monitor received after the release was first considered. A report from before could
 * predate that node's own release of it (while views of the node set differ for a moment, a node may
 * think itself unassigned), and two nodes trusting each other's old reports would both let go.
 */
export interface ReleaseConfirmations {
  /** True once confirmed; otherwise starts the wait, or starts it again when the holders changed. */
  confirmed(cid: string, holders: string[], registry: Map<string, RegistryNode>): boolean
  forget(cid: string): void
}

export function createReleaseConfirmations(replicationFactor: number): ReleaseConfirmations {
  const pending = new Map<string, { holders: string; reportsBefore: Map<string, string> }>()
  return {
    confirmed(cid, holders, registry) {
      if (holders.length < replicationFactor) {
        pending.delete(cid)
        return false
      }
      const key = holders.join(' ')
      const wait = pending.get(cid)
      if (wait?.holders !== key) {
        pending.set(cid, { holders: key, reportsBefore: new Map(holders.map(id => [id, registry.get(id)?.lastReportAt ?? ''])) })
        return false
      }
      return holders.every(id => {
        const node = registry.get(id)
        // monitor times, all in the same ISO form: they compare as strings
        return node !== undefined && node.lastReportAt > (wait.reportsBefore.get(id) as string) && node.held.includes(cid)
      })
    },
    forget(cid) {
      pending.delete(cid)
    }
  }
}
