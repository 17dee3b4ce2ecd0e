// `seed-one publish`'s side of the hand-over to a running custodian (publish-socket.ts): is one serving
// this data directory, and the job sent to it with its progress lines read back as they come.
import { createInterface } from 'node:readline'
import { ConfigError } from '../config.ts'
import { askLocalSocket, LocalSocketError, readJson } from '../http/local-socket.ts'
import type { PublishedFilm } from './publish-film.ts'
import { PUBLISH_JOB_PATH, publishSocketPath, type CustodianTarget, type JobLine, type PublishJob } from './publish-job.ts'

/** The custodian failed the job: its own words. */
export class CustodianPublishError extends Error {
  override name = 'CustodianPublishError'
}

/** A refusal of the socket, as `the daemon answered 400: …`. */
async function refusal(response: Awaited<ReturnType<typeof askLocalSocket>>): Promise<Error> {
  const { status, body } = await readJson(response)
  const { message } = (body ?? {}) as { message?: string }
  return new CustodianPublishError(`the custodian answered ${status}: ${message ?? 'no reason given'}`)
}

/** The custodian that serves publish jobs on `dataDir`, or undefined when none runs there. */
export async function runningCustodian(dataDir: string): Promise<CustodianTarget | undefined> {
  const socket = publishSocketPath(dataDir)
  let response
  try {
    response = await askLocalSocket(socket, 'GET', PUBLISH_JOB_PATH)
  } catch (err) {
    if (!(err instanceof LocalSocketError)) throw err
    // ENAMETOOLONG: a custodian cannot make its socket at so long a path, and has said so in its log
    if (err.code === 'ENOENT' || err.code === 'ECONNREFUSED' || err.code === 'ENAMETOOLONG') return undefined
    if (err.code === 'EACCES')
      throw new ConfigError(
        `${socket} opens only to the user the custodian runs as: run publish as that user (on a box: sudo -u seed-one node /opt/seed-one/current/server/build/cli.js publish …)`
      )
    throw err
  }
  if (response.statusCode !== 200) throw await refusal(response)
  return (await readJson(response)).body as CustodianTarget
}

/** Sends the job to the custodian on `dataDir`; each progress line goes to onProgress; answers the film. */
export async function publishThroughCustodian(
  dataDir: string,
  job: PublishJob,
  onProgress: (line: string) => void
): Promise<PublishedFilm> {
  const response = await askLocalSocket(publishSocketPath(dataDir), 'POST', PUBLISH_JOB_PATH, job)
  if (response.statusCode !== 200) throw await refusal(response)
  for await (const text of createInterface({ input: response, crlfDelay: Infinity })) {
    if (text === '') continue
    const line = JSON.parse(text) as JobLine
    if ('progress' in line) onProgress(line.progress)
    else if ('film' in line) return line.film
    else throw new CustodianPublishError(line.error)
  }
  throw new CustodianPublishError(
    'the custodian closed the connection before the film was published (was it stopped?): read its log; rerunning the same command resumes the publish and never registers the film twice'
  )
}
