// A publish handed to the custodian daemon that holds the data directory, over its local socket
// (publish-socket.ts serves it, publish-client.ts sends it): the shapes both sides share. Light: the
// daemon loads the pipeline only when a job comes.
import { localSocketPath } from '../http/local-socket.ts'
import { CONTENT_CLASSES } from '../library/film-metadata.ts'
import { CIPHER_NAMES } from '../sealing/format.ts'
import type { PublishRequest, PublishedFilm } from './publish-film.ts'

/** The socket's name in the data directory: served by the custodian role, mode 0600. */
export const PUBLISH_SOCKET_FILE = 'publish.sock'

export const publishSocketPath = (dataDir: string): string => localSocketPath(dataDir, PUBLISH_SOCKET_FILE)

/** GET: what the custodian publishes for; POST: a job, answered with progress lines then the film. */
export const PUBLISH_JOB_PATH = '/publish'

/** The custodian's answer to GET: the chain and contract it registers on, and where it serves keys. */
export interface CustodianTarget {
  chainId: number
  contract: string
  custodianUrl: string
}

/** A publish request as JSON carries it (bigint as a decimal string). */
export type WireRequest = Omit<PublishRequest, 'priceWei' | 'maxSupply' | 'tierThresholds' | 'royaltyBps'> & { priceWei?: string }

export interface PublishJob {
  request: WireRequest
  /**
   * The creator's private key itself (0x + 64 hex digits), not a path to it: the daemon's sandbox may
   * not see the caller's files, and the socket opens only to the daemon's user, who holds the custody
   * keys already (docs/SECURITY.md, "Publish through the custodian's socket"). Kept in memory for the job.
   */
  creatorKey: string
  /** What the caller checked its flags against: refused when the daemon's differ. */
  chainId: number
  contract: string
  /** --custodian-url; else the daemon's own URL. */
  custodianUrl?: string
}

/** One line of the answer to a job (NDJSON): a progress line, then the film or the failure. */
export type JobLine = { progress: string } | { film: PublishedFilm } | { error: string }

const string = { type: 'string', minLength: 1, maxLength: 4096 } as const

export const publishJobSchema = {
  type: 'object',
  additionalProperties: false,
  required: ['request', 'creatorKey', 'chainId', 'contract'],
  properties: {
    request: {
      type: 'object',
      additionalProperties: false,
      required: ['input', 'title'],
      properties: {
        input: string,
        title: string,
        year: { type: 'integer', minimum: 1000, maximum: 9999 },
        synopsis: { type: 'string', maxLength: 65536 },
        subtitles: {
          type: 'array',
          maxItems: 64,
          items: {
            type: 'object',
            additionalProperties: false,
            required: ['file', 'language', 'label'],
            properties: { file: string, language: string, label: string }
          }
        },
        contentClass: { enum: CONTENT_CLASSES },
        expiresAt: string,
        priceWei: { type: 'string', pattern: '^[0-9]{1,78}$' },
        cipher: { enum: CIPHER_NAMES }
      }
    },
    creatorKey: { type: 'string', pattern: '^0x[0-9a-fA-F]{64}$' },
    chainId: { type: 'integer', minimum: 1 },
    contract: { type: 'string', pattern: '^0x[0-9a-fA-F]{40}$' },
    custodianUrl: string
  }
} as const
