// The custodian (creator) role: keeps the content keys of the films it publishes and releases each
// one to the devices of verified holders; takes revocations of devices from their owners.
import type { FastifyInstance } from 'fastify'
import { defaultConfirmations } from '../chain/film-token.ts'
import { openCustodyStore } from '../keys/custody-store.ts'
import { keyReleaseRoutes } from '../keys/key-release-routes.ts'
import { publishedFilms } from '../keys/published-films.ts'
import { DEFAULT_RELEASE_LIMITS } from '../keys/release-limits.ts'
import { createRevocationStore, revocationRoutes } from '../keys/revocations.ts'
import { withShutdown, type RoleComponents, type RoleHandle } from './role.ts'

export async function custodianRole(components: RoleComponents, app: FastifyInstance): Promise<RoleHandle> {
  const { config, db, chain } = components
  return await withShutdown(async () => {
    const custody = await openCustodyStore(config.dataDir, db)
    const revocations = createRevocationStore(db)
    await app.register(keyReleaseRoutes, {
      chain,
      custody,
      published: publishedFilms(db),
      revocations,
      servedCreators: config.servedCreators,
      confirmations: config.chain.confirmations ?? defaultConfirmations(chain.chainId),
      limits: config.keyReleaseLimits ?? DEFAULT_RELEASE_LIMITS
    })
    await app.register(revocationRoutes, { store: revocations, chainId: chain.chainId, provider: chain.provider })
    return { custody }
  })
}
