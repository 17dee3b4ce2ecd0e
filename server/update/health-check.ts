// "Healthy" means: GET /api/status answers 200 with the version that was installed. Another version
// answering means the wrong code is serving, which no amount of waiting fixes.
import { UpdateError } from './update-error.ts'

const POLL_MS = 500
const REQUEST_TIMEOUT_MS = 5_000

/** Resolves once `statusUrl` reports `version`; throws when another version answers or `deadline` (epoch ms) passes. */
export async function waitUntilServing(statusUrl: string, version: string, deadline: number): Promise<void> {
  let last = 'no answer yet'
  while (Date.now() < deadline) {
    try {
      const response = await fetch(statusUrl, {
        signal: AbortSignal.timeout(Math.min(REQUEST_TIMEOUT_MS, Math.max(1, deadline - Date.now())))
      })
      const body = await response.text()
      if (response.status === 200) {
        const answered = (JSON.parse(body) as { version?: unknown }).version
        if (answered === version) return
        throw new UpdateError(`${statusUrl} answers version ${JSON.stringify(answered)}, not ${version}`)
      }
      last = `HTTP ${response.status}`
    } catch (err) {
      if (err instanceof UpdateError) throw err
      last = (err as Error).message
    }
    await new Promise(resolve => setTimeout(resolve, POLL_MS))
  }
  throw new UpdateError(`${statusUrl} did not answer healthy in time (last: ${last})`)
}

/** `work`, or an UpdateError once `deadline` (epoch ms) passes first. */
export async function beforeDeadline<T>(work: Promise<T>, deadline: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined
  const expired = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new UpdateError(`${what} did not finish in time`)), Math.max(0, deadline - Date.now()))
  })
  try {
    return await Promise.race([work, expired])
  } finally {
    clearTimeout(timer)
  }
}
