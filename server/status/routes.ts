import type { FastifyInstance } from 'fastify'
import type { ChainSyncView } from '../chain/sync-status.ts'

export interface DaemonStatus {
  version: string
  deviceId: string
  roles: string[]
  owner: string | null
  paired: boolean
  chainId: number
  syncedBlock: number
  /** Whether the owner's films are in step with the chain; null when there is no owner to follow. */
  chainSync: ChainSyncView | null
  multiaddrs: string[]
}

export async function statusRoutes(app: FastifyInstance, opts: { status: () => Promise<DaemonStatus> }): Promise<void> {
  app.get('/api/status', async () => await opts.status())
}
