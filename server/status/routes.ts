import type { FastifyInstance, FastifyRequest } from 'fastify'
import type { ChainSyncView } from '../chain/sync-status.ts'

export interface DaemonStatus {
  version: string
  deviceId: string
  roles: string[]
  /** The owner's wallet, to the owner's signed-in screens only (null to a guest). */
  owner: string | null
  paired: boolean
  chainId: number
  syncedBlock: number
  /** Whether the owner's films are in step with the chain; null when there is no owner to follow, or to a guest. */
  chainSync: ChainSyncView | null
  multiaddrs: string[]
}

export async function statusRoutes(
  app: FastifyInstance,
  opts: { status: (request: FastifyRequest) => Promise<DaemonStatus> }
): Promise<void> {
  app.get('/api/status', async (request, reply) => {
    // The TV apps' finder page (ui/tv-apps, another origin) knows a box by this route answering. The
    // box sends no CORS header, so the body stays unreadable to other origins; what is allowed here is
    // only to see that an answer came, which the box's default same-origin resource policy would hide.
    reply.header('cross-origin-resource-policy', 'cross-origin')
    return await opts.status(request)
  })
}
