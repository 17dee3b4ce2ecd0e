// Following the paired owner: their library, the chain watcher that feeds it their holdings, and
// whether that sync is current. A box follows one owner at a time, from pairing to unpairing.
import type { FastifyBaseLogger } from 'fastify'
import type { StorageNode } from '../storage/helia-node.ts'
import type { DaemonConfig } from '../config.ts'
import type { DeviceIdentity } from '../identity/device-identity.ts'
import { defaultConfirmations, type FilmTokenClient } from '../chain/film-token.ts'
import { createChainWatcher, type ChainWatcher } from '../chain/watcher.ts'
import { createChainSyncStatus, type ChainSyncStatus, type ChainSyncView } from '../chain/sync-status.ts'
import type { OwnerAuthorisation } from '../wire/custodian-protocol.ts'
import type { FilmStreams } from './film-streams.ts'
import { section, type StateDb } from '../storage/state-db.ts'
import { createLibrary, type Library } from './library.ts'
import { createLibraryChanges, type LibraryChanges } from './library-changes.ts'
import { createPlaybackStore, type PlaybackStore } from './playback.ts'
import { repeatedWarning } from '../lib/repeated-warning.ts'

export interface FollowingOptions {
  config: Pick<
    DaemonConfig,
    'chain' | 'chainPollMs' | 'dataDir' | 'unpinGraceMs' | 'offlineKeyGraceMs' | 'pinStallMs' | 'playbackFetchTimeoutMs'
  >
  db: StateDb
  helia: StorageNode
  identity: DeviceIdentity
  chain: FilmTokenClient
  /** The owner's developer-mode setting: `test` and `development` films are shown only with it. */
  developerMode(): Promise<boolean>
  /** The owner's signed authorisation of this box, shown to custodians for keys. */
  authorisation(): Promise<OwnerAuthorisation | undefined>
  filmStreams: FilmStreams
  /** The service's counters: a failed chain sync counts as one of its errors. */
  counters: { errors: number }
  log: FastifyBaseLogger
}

/** What routes and health read of the followed owner. */
export interface FollowingView {
  /** The owner's library; undefined before pairing. */
  library(): Library | undefined
  /** Whether the library is in step with the chain; null before pairing. */
  chainSync(): ChainSyncView | null
  /** The last block the library reflects; undefined before pairing. */
  syncedBlock(): number | undefined
  /** Tells the screens when the library changed. */
  changes: LibraryChanges
  /** Where the owner stopped watching each film. */
  playback: PlaybackStore
}

export interface Following extends FollowingView {
  /** Pairing, or a start with an owner paired: the owner's library resumes and the watcher starts. */
  follow(owner: string): Promise<void>
  /** Unpairing: the owner's films, keys and pins go, and a later pairing with them syncs from the start again. */
  unfollow(owner: string): Promise<void>
  close(): Promise<void>
}

interface Followed {
  library: Library
  watcher: ChainWatcher
  sync: ChainSyncStatus
}

function ownerLibrary(opts: FollowingOptions, onChange: () => void): Library {
  const { config } = opts
  return createLibrary({
    db: opts.db,
    helia: opts.helia,
    identity: opts.identity,
    chain: opts.chain,
    authorisation: async () => await opts.authorisation(),
    unpinGraceMs: config.unpinGraceMs,
    offlineKeyGraceMs: config.offlineKeyGraceMs,
    pinStallMs: config.pinStallMs,
    dataDir: config.dataDir,
    fetchTimeoutMs: config.playbackFetchTimeoutMs,
    developerMode: opts.developerMode,
    streams: opts.filmStreams,
    onChange,
    log: opts.log.child({ part: 'library' })
  })
}

export function createFollowing(opts: FollowingOptions): Following {
  const { config, chain } = opts
  const changes = createLibraryChanges()
  const playback = createPlaybackStore(opts.db)
  const watcherState = section(opts.db, 'chain')
  let followed: Followed | undefined

  function watch(owner: string, library: Library, sync: ChainSyncStatus): ChainWatcher {
    const syncFailed = repeatedWarning(opts.log, 'chain sync failed; retrying')
    return createChainWatcher({
      provider: chain.provider,
      contractAddress: config.chain.contractAddress,
      owner,
      fromBlock: config.chain.deploymentBlock,
      confirmations: config.chain.confirmations ?? defaultConfirmations(chain.chainId),
      chainId: chain.chainId,
      pollMs: config.chainPollMs,
      store: {
        load: async () => await watcherState.get(`watcher:${owner}`),
        save: async state => {
          await watcherState.put(`watcher:${owner}`, state)
        }
      },
      onChange: async change => {
        await library.applyHolding(change)
      },
      onSynced: () => sync.synced(),
      onError: err => {
        sync.failed(err)
        opts.counters.errors++
        syncFailed.warn({ err: (err as Error).message })
      }
    })
  }

  return {
    library: () => followed?.library,
    chainSync: () => followed?.sync.view() ?? null,
    syncedBlock: () => followed?.watcher.syncedBlock(),
    changes,
    playback,
    async follow(owner) {
      const library = ownerLibrary(opts, changes.changed)
      const sync = createChainSyncStatus(changes.changed)
      followed = { library, sync, watcher: watch(owner, library, sync) }
      await library.resume()
      followed.watcher.start()
    },
    async unfollow(owner) {
      await followed?.watcher.close()
      await followed?.library.forget()
      await playback.clear()
      followed = undefined
      await watcherState.del(`watcher:${owner}`)
      // a copy of the data directory taken before cannot use the next owner's authorisation
      await opts.identity.rotateKeyWrappingKey()
    },
    async close() {
      await followed?.watcher.close()
      await followed?.library.close()
    }
  }
}
