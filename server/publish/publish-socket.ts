// `seed-one publish` while the custodian runs: the custodian role serves publish jobs on the data
// directory's local socket (http/local-socket.ts: mode 0600, never over TCP), so a creator publishes
// without stopping it. The job runs here, on the daemon's own Helia, state database and custody store,
// so the new film's key is released as soon as it is registered. Jobs run one at a time: two at once
// would sign registrations with the same creator nonce.
import { PassThrough } from 'node:stream'
import type { FastifyBaseLogger } from 'fastify'
import type { FilmTokenClient } from '../chain/film-token.ts'
import { serveLocalSocket } from '../http/local-socket.ts'
import { Wallet } from '../lib/ethers.ts'
import type { LocalCustodian } from './publish-film.ts'
import { progressLines } from './progress-lines.ts'
import {
  PUBLISH_JOB_PATH,
  publishJobSchema,
  publishSocketPath,
  type CustodianTarget,
  type JobLine,
  type PublishJob
} from './publish-job.ts'

export interface PublishSocketOptions {
  dataDir: string
  custodian: LocalCustodian & { chain: FilmTokenClient }
  log: FastifyBaseLogger
}

/** What this custodian publishes for: its chain, its contract, the URL boxes ask it for keys at. */
async function targetOf({ custodian }: PublishSocketOptions): Promise<CustodianTarget> {
  return { chainId: custodian.chain.chainId, contract: await custodian.chain.contract.getAddress(), custodianUrl: custodian.url }
}

/** Why the daemon refuses a job it was sent: the caller's flags name another chain or contract. */
function mismatch(job: PublishJob, target: CustodianTarget): string | undefined {
  if (job.chainId !== target.chainId)
    return `the custodian on this data directory registers on chain ${target.chainId}, not on chain ${job.chainId} of --rpc-url: give publish the custodian's --rpc-url`
  if (job.contract.toLowerCase() !== target.contract.toLowerCase())
    return `the custodian on this data directory registers with the contract ${target.contract}, not ${job.contract}: give publish the custodian's --contract (or restart the custodian with yours)`
  return undefined
}

/** Runs one job on the daemon's parts, writing its progress and its outcome as lines. */
async function runJob(opts: PublishSocketOptions, job: PublishJob, write: (line: JobLine) => void): Promise<void> {
  const { custodian } = opts
  const refusal = mismatch(job, await targetOf(opts))
  if (refusal !== undefined) return write({ error: refusal })
  // loaded at the first job: a custodian that never publishes never holds ffmpeg's wrappers and the pipeline
  const { daemonPublishContext, publishFilm } = await import('./publish-film.ts')
  const { statInputFile } = await import('./probe.ts')
  for (const file of [job.request.input, ...(job.request.subtitles ?? []).map(track => track.file)])
    await statInputFile(file).catch((err: Error) => {
      throw new Error(
        `${err.message}, as the custodian daemon sees it: publish reads its files as the daemon's user, inside its sandbox ` +
          '(on a box ProtectHome and PrivateTmp hide /home and /tmp): put them where it can read them, e.g. under /srv',
        { cause: err }
      )
    })
  const creator = new Wallet(job.creatorKey, custodian.chain.provider)
  const onProgress = progressLines({ write: text => write({ progress: text.trimEnd() }) })
  const ctx = daemonPublishContext({ ...custodian, url: job.custodianUrl ?? custodian.url }, creator, onProgress)
  const { priceWei, ...request } = job.request
  const film = await publishFilm(ctx, { ...request, ...(priceWei !== undefined ? { priceWei: BigInt(priceWei) } : {}) })
  opts.log.info({ tokenId: film.tokenId, title: film.title }, 'film published through the local socket')
  write({ film })
}

/** Serves publish jobs on the data directory's socket until close(). */
export async function servePublishSocket(opts: PublishSocketOptions): Promise<{ close(): Promise<void> }> {
  let queue: Promise<void> = Promise.resolve()
  return await serveLocalSocket({
    socket: publishSocketPath(opts.dataDir),
    log: opts.log,
    routes: async app => {
      app.get(PUBLISH_JOB_PATH, async (): Promise<CustodianTarget> => await targetOf(opts))
      app.post<{ Body: PublishJob }>(PUBLISH_JOB_PATH, { schema: { body: publishJobSchema } }, async (request, reply) => {
        const out = new PassThrough()
        // the caller may stop following (Ctrl-C) or the daemon stop: the job goes on, or fails, unheard
        out.on('error', () => {})
        const write = (line: JobLine): void => {
          if (!out.destroyed && !out.writableEnded) out.write(`${JSON.stringify(line)}\n`)
        }
        const job = queue.then(async () => await runJob(opts, request.body, write))
        queue = job.catch(() => {})
        job.then(
          () => out.end(),
          (err: Error) => {
            opts.log.warn({ err: err.message }, 'a publish through the local socket failed')
            write({ error: err.message })
            out.end()
          }
        )
        return await reply.type('application/x-ndjson').send(out)
      })
    }
  })
}
