import type { FastifyInstance } from 'fastify'

export interface DaemonStatus {
  version: string
  deviceId: string
  roles: string[]
  owner: string | null
  paired: boolean
  chainId: number
  syncedBlock: number
  multiaddrs: string[]
}

export async function statusRoutes(app: FastifyInstance, opts: { status: () => Promise<DaemonStatus> }): Promise<void> {
  app.get('/api/status', async () => await opts.status())
}
