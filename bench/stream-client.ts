// The downloading side of the streaming benchmarks, in a process of its own so that client and server
// never share an event loop (or, with taskset, a core). The parent sends it one job at a time: Range
// requests run `concurrency` at a time over keep-alive connections, each optionally paced like a
// player reading at a bitrate (the response is paused while it is ahead of schedule, so TCP flow
// control holds the server back, as a TV's full buffer does), and optionally all cut off at a deadline.
import { fork, type ChildProcess } from 'node:child_process'
import http from 'node:http'

export interface RangeGet {
  url: string
  /** Sent with the request: the box's films need the owner's session cookie. */
  headers: Record<string, string>
  /** Inclusive byte positions, sent as `Range: bytes=start-end`. */
  start: number
  end: number
}

export interface Job {
  requests: RangeGet[]
  concurrency: number
  /** Each response is read at no more than this rate (bytes per second). */
  bytesPerSecond?: number
  /** Requests still running this long after the job started are cut off (and count what they got). */
  stopAfterMs?: number
}

export interface Fetched {
  status: number
  bytes: number
  /** Request sent → last byte (or the cut-off). */
  ms: number
  /** Request sent → status line. */
  firstByteMs: number
  /** Cut off at the job's deadline before its last byte. */
  cut: boolean
}

export interface JobResult {
  fetched: Fetched[]
  bytes: number
  ms: number
}

export interface StreamClient {
  pid: number
  run(job: Job): Promise<JobResult>
  close(): void
}

/** Forks the client process; one job at a time. */
export function forkStreamClient(): StreamClient {
  const child: ChildProcess = fork(import.meta.filename, [], { execPath: process.execPath, stdio: 'inherit' })
  return {
    pid: child.pid as number,
    run: async job =>
      await new Promise((resolve, reject) => {
        const exited = (code: number | null): void => reject(new Error(`the stream client exited with ${code}`))
        child.once('exit', exited)
        child.once('message', (message: { result?: JobResult; error?: string }) => {
          child.off('exit', exited)
          if (message.error !== undefined) reject(new Error(message.error))
          else resolve(message.result as JobResult)
        })
        child.send(job)
      }),
    close: () => child.disconnect()
  }
}

function get(agent: http.Agent, request: RangeGet, job: Job, deadline: AbortSignal): Promise<Fetched> {
  return new Promise((resolve, reject) => {
    const sent = performance.now()
    let firstByteMs = 0
    let bytes = 0
    let settled = false
    const done = (cut: boolean, status: number): void => {
      if (settled) return
      settled = true
      deadline.removeEventListener('abort', stop)
      resolve({ status, bytes, ms: performance.now() - sent, firstByteMs, cut })
    }
    const req = http.get(request.url, { agent, headers: { ...request.headers, range: `bytes=${request.start}-${request.end}` } }, res => {
      firstByteMs = performance.now() - sent
      const rate = job.bytesPerSecond
      res.on('data', (part: Buffer) => {
        bytes += part.length
        if (rate === undefined) return
        const aheadMs = (bytes / rate) * 1000 - (performance.now() - sent)
        if (aheadMs > 1) {
          res.pause()
          setTimeout(() => res.resume(), aheadMs)
        }
      })
      res.on('end', () => done(false, res.statusCode ?? 0))
      res.on('error', err => (settled ? undefined : reject(err)))
    })
    const stop = (): void => {
      done(true, 0)
      req.destroy()
    }
    deadline.addEventListener('abort', stop, { once: true })
    req.on('error', err => (settled ? undefined : reject(err)))
  })
}

async function runJob(job: Job): Promise<JobResult> {
  const agent = new http.Agent({ keepAlive: true, maxSockets: job.concurrency })
  const deadline = job.stopAfterMs === undefined ? new AbortController().signal : AbortSignal.timeout(job.stopAfterMs)
  const fetched: Fetched[] = new Array(job.requests.length)
  let next = 0
  const started = performance.now()
  const worker = async (): Promise<void> => {
    while (next < job.requests.length && !deadline.aborted) {
      const index = next++
      fetched[index] = await get(agent, job.requests[index] as RangeGet, job, deadline)
    }
  }
  try {
    await Promise.all(Array.from({ length: job.concurrency }, worker))
  } finally {
    agent.destroy()
  }
  const ms = performance.now() - started
  const done = fetched.filter(f => f !== undefined)
  return { fetched: done, bytes: done.reduce((sum, f) => sum + f.bytes, 0), ms }
}

if (import.meta.main) {
  process.on('message', (job: Job) => {
    runJob(job).then(
      result => process.send?.({ result }),
      (err: Error) => process.send?.({ error: `stream client: ${err.message}` })
    )
  })
  process.on('disconnect', () => process.exit(0))
}
