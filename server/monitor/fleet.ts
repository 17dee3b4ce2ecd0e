import type { RegistryNode, RestWindow } from '../wire/monitor-protocol.ts'
import type { ChallengeRecord, NodeStore } from './node-store.ts'
import { countCopies, replicationHealth, type ReplicationHealth } from './replication-health.ts'
import { partsOf, type CatalogueFilm, type CataloguePart } from '../replication/catalogue.ts'
import type { PartKind } from '../library/film-parts.ts'

/** One node as the fleet dashboard shows it: the registry's view and its latest report's figures. */
export interface FleetNode {
  deviceId: string
  apiUrl: string
  live: boolean
  /** Silent inside a window it announced (RegistryNode.resting); neither live nor resting is gone. */
  resting: boolean
  /** The windows its latest report announced. */
  rest: RestWindow[]
  lastReportAt: string
  reportedAt: string
  version: string
  roles: string[]
  uptimeSec: number
  cpuLoadPercent: number
  temperatureC: number | null
  throttled: number | null
  memory: { totalBytes: number; availableBytes: number }
  disk: { totalBytes: number; freeBytes: number }
  pins: { held: number; bytes: number }
  quotaBytes: number
  replicaBytes: number
  replication: { enabled: boolean; held: number; assigned: number; met: number; missing: number }
  peersConnected: number
  chainSyncLag: number | null
  errorsSinceLastReport: number
  challenges: Pick<ChallengeRecord, 'passed' | 'failed' | 'failedCids' | 'last'> & { score: number }
}

/** One film of the catalogue as the dashboard shows it: its title and each part's copies. */
export interface FleetFilm {
  tokenId: string
  /** Null until its metadata has been read. */
  title: string | null
  /** Every part (its metadata alone until that is read), named as filmParts names it, with its live and resting copies. */
  parts: Array<{ kind: PartKind; name: string; cid: string; copies: number; resting: number }>
  /** Every part has at least minReplicas live copies. */
  complete: boolean
}

export interface Fleet {
  generatedAt: string
  nodeTimeoutSec: number
  nodes: FleetNode[]
  /** The catalogue's valid films, in registration order (empty when the monitor follows no chain). */
  films: FleetFilm[]
  replication: ReplicationHealth
}

/** The parts of each valid film the fleet should hold: its metadata alone until that is read. */
function filmPartCids(film: CatalogueFilm): CataloguePart[] {
  const parts = partsOf(film)
  return parts.length > 0 ? parts : [{ kind: 'metadata', name: 'metadata', cid: film.metadataCid }]
}

/** Each valid film with its parts' copies among the registry's nodes. */
function fleetFilms(registry: RegistryNode[], films: CatalogueFilm[], minReplicas: number): FleetFilm[] {
  const valid = films.filter(film => film.invalid === undefined)
  const copies = countCopies(
    registry,
    valid.flatMap(film => filmPartCids(film).map(part => part.cid))
  )
  return valid.map(film => {
    const parts = filmPartCids(film).map(({ kind, name, cid }) => ({
      kind,
      name,
      cid,
      copies: copies.get(cid)!.live,
      resting: copies.get(cid)!.resting
    }))
    return { tokenId: film.tokenId, title: film.title ?? null, parts, complete: parts.every(part => part.copies >= minReplicas) }
  })
}

/** The nodes as if they held nothing of `retired` films: copies the network no longer keeps are no one's concern. */
function withoutRetired(registry: RegistryNode[], retired: Set<string>): RegistryNode[] {
  return retired.size === 0 ? registry : registry.map(node => ({ ...node, held: node.held.filter(cid => !retired.has(cid)) }))
}

export async function readFleet(
  store: NodeStore,
  registry: RegistryNode[],
  opts: { nodeTimeoutMs: number; minReplicas: number; catalogue: CatalogueFilm[]; retired?: Set<string> }
): Promise<Fleet> {
  const nodes = (
    await Promise.all(
      registry.map(async (node): Promise<FleetNode[]> => {
        const record = await store.node(node.deviceId)
        if (record === undefined) return []
        const challenges = await store.challenges(node.deviceId)
        const { report } = record
        const { system, storage, replication, service } = report
        return [
          {
            deviceId: node.deviceId,
            apiUrl: node.apiUrl,
            live: node.live,
            resting: node.resting === true,
            rest: report.rest ?? [],
            lastReportAt: node.lastReportAt,
            reportedAt: report.timestamp,
            version: report.version,
            roles: report.roles,
            uptimeSec: report.uptimeSec,
            cpuLoadPercent: system.cpu.loadPercent,
            temperatureC: system.cpu.temperatureC,
            throttled: system.cpu.throttled,
            memory: { totalBytes: system.memory.totalBytes, availableBytes: system.memory.availableBytes },
            disk: { totalBytes: system.disk.totalBytes, freeBytes: system.disk.freeBytes },
            pins: { held: storage.pinsHeld, bytes: storage.pinnedBytes },
            quotaBytes: storage.quotaBytes,
            replicaBytes: storage.replicaBytes,
            replication: {
              enabled: replication.enabled,
              held: replication.held.length,
              assigned: replication.assigned,
              met: replication.met,
              missing: replication.missing
            },
            peersConnected: service.peersConnected,
            chainSyncLag: service.chainSyncLag,
            errorsSinceLastReport: service.errorsSinceLastReport,
            challenges: {
              passed: challenges.passed,
              failed: challenges.failed,
              score: node.score,
              failedCids: challenges.failedCids,
              last: challenges.last
            }
          }
        ]
      })
    )
  ).flat()
  // live first, then resting, then gone
  const order = (node: FleetNode): number => (node.live ? 0 : node.resting ? 1 : 2)
  nodes.sort((a, b) => order(a) - order(b) || a.deviceId.localeCompare(b.deviceId))
  return {
    generatedAt: new Date().toISOString(),
    nodeTimeoutSec: Math.round(opts.nodeTimeoutMs / 1000),
    nodes,
    films: fleetFilms(registry, opts.catalogue, opts.minReplicas),
    replication: replicationHealth(
      withoutRetired(registry, opts.retired ?? new Set()),
      opts.minReplicas,
      opts.catalogue.flatMap(film => (film.invalid === undefined ? filmPartCids(film).map(part => part.cid) : []))
    )
  }
}
