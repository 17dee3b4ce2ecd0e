// The custodian (creator) role: keeps the content keys of the films it publishes and releases each
// one to the devices of verified holders; takes revocations of devices from their owners; and takes
// `seed-one publish` jobs on the data directory's socket, so a creator publishes while it runs.
import type { FastifyInstance } from 'fastify'
import { defaultConfirmations } from '../chain/film-token.ts'
import { openCustodyStore } from '../keys/custody-store.ts'
import { keyReleaseRoutes } from '../keys/key-release-routes.ts'
import { publishedFilms } from '../keys/published-films.ts'
import { DEFAULT_RELEASE_LIMITS } from '../keys/release-limits.ts'
import { createRevocationStore, revocationRoutes } from '../keys/revocations.ts'
import { servePublishSocket } from '../publish/publish-socket.ts'
import { withShutdown, type RoleComponents, type RoleHandle } from './role.ts'

export async function custodianRole(components: RoleComponents, app: FastifyInstance): Promise<RoleHandle> {
  const { config, db, chain, helia, identity } = components
  return await withShutdown(async shutdown => {
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
    return {
      custody,
      // once the box listens: a film published through the socket names the URL boxes reach it at
      async listening({ url }) {
        const socket = await servePublishSocket({
          dataDir: config.dataDir,
          custodian: { url: config.port === 0 ? url : config.publicUrl, helia, db, custody, chain, identity },
          log: app.log.child({ part: 'publish' })
        }).catch((err: Error) => {
          app.log.warn({ err: err.message }, '`seed-one publish` cannot hand jobs to this custodian: its socket could not be made')
          return undefined
        })
        if (socket !== undefined) shutdown.add(socket.close)
      }
    }
  })
}
