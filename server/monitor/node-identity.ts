// Before a node is listed, its apiUrl must answer for its key: the monitor asks IDENTITY_PATH with a
// fresh nonce and lists the node only when the answer is that nonce and that URL, signed by the
// node's device key. A report naming another box's URL (whose answers, to challenges too, would be
// that box's) or any other host is never listed, and nothing else is ever sent to such a URL.
import { randomBytes } from 'node:crypto'
import { setTimeout as delay } from 'node:timers/promises'
import type { FastifyBaseLogger } from 'fastify'
import { verifyDeviceSignature } from '../identity/device-signature.ts'
import type { SignedPayload } from '../wire/signed-payload.ts'
import { IDENTITY_PATH, type IdentityStatement } from '../wire/monitor-protocol.ts'
import type { NodeStore } from './node-store.ts'

export interface IdentityChecks {
  /** Checks the node's apiUrl unless it is checked or being checked; onVerified follows a success, and is called at once for a node already checked. */
  check(deviceId: string): void
  close(): Promise<void>
}

const ANSWER_TIMEOUT_MS = 10_000
/** A signed statement is a few hundred bytes. */
const MAX_ANSWER_BYTES = 4096
/** Waits between tries while the node does not answer yet (it reports as it starts). */
const RETRY_MS = [1_000, 2_000, 4_000, 8_000]
/** After the last try failed, reports do not start another sooner: a report cannot make the monitor knock on a host again and again. */
const RECHECK_MS = 60_000

/** Why `apiUrl` does not answer for `deviceId`, or undefined when it does. */
export async function identityProblem(deviceId: string, apiUrl: string, signal: AbortSignal): Promise<string | undefined> {
  const nonce = randomBytes(24).toString('base64url')
  let response: Response
  try {
    response = await fetch(`${apiUrl}${IDENTITY_PATH}?nonce=${nonce}`, {
      redirect: 'manual',
      signal: AbortSignal.any([signal, AbortSignal.timeout(ANSWER_TIMEOUT_MS)])
    })
  } catch (err) {
    return `unreachable: ${(err as Error).message}`
  }
  if (response.status !== 200) {
    await response.body?.cancel()
    return `answered ${response.status}${response.status >= 300 && response.status < 400 ? ' (redirects are not followed)' : ''}`
  }
  let text = ''
  try {
    const reader = (response.body as ReadableStream<Uint8Array>).getReader()
    const decoder = new TextDecoder()
    for (let part = await reader.read(); !part.done; part = await reader.read()) {
      text += decoder.decode(part.value, { stream: true })
      if (text.length > MAX_ANSWER_BYTES) {
        await reader.cancel()
        return `answer over ${MAX_ANSWER_BYTES} bytes`
      }
    }
  } catch (err) {
    return `answer cut short: ${(err as Error).message}`
  }
  let signed: SignedPayload
  let statement: Partial<IdentityStatement>
  try {
    signed = JSON.parse(text) as SignedPayload
    statement = JSON.parse(signed.payload) as Partial<IdentityStatement>
  } catch {
    return 'the answer is not a signed statement'
  }
  if (typeof signed.signature !== 'string' || !(await verifyDeviceSignature(deviceId, signed)))
    return `the answer is not signed by ${deviceId}`
  if (statement.purpose !== 'seed-one/identity/v1' || statement.deviceId !== deviceId || statement.nonce !== nonce)
    return 'the statement is not the one asked for'
  if (statement.apiUrl !== apiUrl) return `the node says it is at ${String(statement.apiUrl)}, not ${apiUrl}`
  return undefined
}

export function createIdentityChecks(opts: {
  store: NodeStore
  log: FastifyBaseLogger
  onVerified(deviceId: string): void
}): IdentityChecks {
  const { store, log } = opts
  const stopping = new AbortController()
  const running = new Map<string, Promise<void>>()
  const failedAt = new Map<string, number>()

  const run = async (deviceId: string): Promise<void> => {
    for (let attempt = 0; !stopping.signal.aborted; attempt++) {
      const node = await store.node(deviceId)
      if (node === undefined) return
      const { apiUrl } = node.report
      if (node.verifiedApiUrl === apiUrl) break
      const problem = await identityProblem(deviceId, apiUrl, stopping.signal)
      if (problem === undefined) {
        if (await store.verifyApiUrl(deviceId, apiUrl)) {
          log.info({ deviceId, apiUrl }, 'node answered for its key at its apiUrl: listed')
          break
        }
        continue // its reports name another URL by now: check that one
      }
      if (stopping.signal.aborted) return
      if (attempt >= RETRY_MS.length) {
        log.warn({ deviceId, apiUrl, problem }, 'node not listed: its apiUrl does not answer for its key')
        failedAt.set(deviceId, Date.now())
        return
      }
      await delay(RETRY_MS[attempt], undefined, { signal: stopping.signal }).catch(() => {})
    }
    if (!stopping.signal.aborted) opts.onVerified(deviceId)
  }

  return {
    check(deviceId) {
      if (running.has(deviceId) || stopping.signal.aborted || (failedAt.get(deviceId) ?? 0) > Date.now() - RECHECK_MS) return
      failedAt.delete(deviceId)
      const work = run(deviceId)
        .catch(err => log.error({ deviceId, err: (err as Error).message }, 'could not check a node’s apiUrl'))
        .finally(() => running.delete(deviceId))
      running.set(deviceId, work)
    },
    close: async () => {
      stopping.abort()
      await Promise.allSettled(running.values())
    }
  }
}
