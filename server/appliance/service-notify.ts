// systemd's service notification protocol (sd_notify(3)) for the `Type=notify` units in systemd/.
//
// The protocol is one AF_UNIX datagram per message to $NOTIFY_SOCKET. Node has no unix datagram
// sockets, and a native binding would need libsystemd headers at install, so each message is sent by
// systemd's own `systemd-notify` binary (present wherever systemd is). It runs as our child, so the
// unit sets NotifyAccess=all. Since systemd 246 systemd-notify also sends BARRIER=1 and waits until
// the manager has read its message, so a sender that exits at once is still attributed to our unit.
import { execFile } from 'node:child_process'

const NOTIFY_BINARY = 'systemd-notify'
/** How long one systemd-notify may take: its barrier waits 5 s for the manager at most. */
const SEND_TIMEOUT_MS = 10_000

export interface ServiceManager {
  /** READY=1, with a status line `systemctl status` shows. */
  ready(status: string): Promise<void>
  /** STOPPING=1, and no more watchdog pings. */
  stopping(): Promise<void>
  /** The watchdog ping interval in ms: half of WATCHDOG_USEC, undefined when no watchdog is ours. */
  readonly watchdogIntervalMs: number | undefined
}

/**
 * The ping interval for a watchdog meant for process `pid`: half of WATCHDOG_USEC (as sd_watchdog_enabled
 * reads it: WATCHDOG_PID, when set, must name this process), undefined when there is none.
 */
export function watchdogIntervalMs(env: NodeJS.ProcessEnv, pid: number): number | undefined {
  const usec = env.WATCHDOG_USEC
  if (usec === undefined || !/^\d+$/.test(usec) || Number(usec) === 0) return undefined
  if (env.WATCHDOG_PID !== undefined && env.WATCHDOG_PID !== String(pid)) return undefined
  return Math.max(1, Math.floor(Number(usec) / 2 / 1000))
}

/**
 * Connects to the service manager that started this process, if any (no NOTIFY_SOCKET: every call is
 * a no-op). Starts the watchdog pings at once, so a start-up that hangs is caught too. The variables
 * are taken out of process.env so that child processes (ffmpeg, df) do not inherit them.
 */
export function connectServiceManager(opts: { onError: (err: Error) => void; env?: NodeJS.ProcessEnv }): ServiceManager {
  const env = opts.env ?? process.env
  const socket = env.NOTIFY_SOCKET
  const intervalMs = socket === undefined ? undefined : watchdogIntervalMs(env, process.pid)
  for (const name of ['NOTIFY_SOCKET', 'WATCHDOG_USEC', 'WATCHDOG_PID']) delete env[name]

  const send = async (assignments: string[]): Promise<void> => {
    if (socket === undefined) return
    await new Promise<void>((resolve, reject) => {
      execFile(NOTIFY_BINARY, assignments, { env: { ...env, NOTIFY_SOCKET: socket }, timeout: SEND_TIMEOUT_MS }, (err, _out, stderr) => {
        if (err === null) resolve()
        else reject(new Error(`${NOTIFY_BINARY} ${assignments.join(' ')} failed: ${stderr.trim() || err.message}`))
      })
    })
  }

  let pinging = false
  const ping = (): void => {
    // one ping at a time: a manager that does not read them now will not read a second one either
    if (pinging) return
    pinging = true
    send(['WATCHDOG=1'])
      .catch(opts.onError)
      .finally(() => {
        pinging = false
      })
  }
  const timer = intervalMs === undefined ? undefined : setInterval(ping, intervalMs)
  // the pings must never keep a process alive that has nothing else to do
  timer?.unref()

  return {
    watchdogIntervalMs: intervalMs,
    ready: async status => await send(['READY=1', `STATUS=${status}`]),
    stopping: async () => {
      clearInterval(timer)
      await send(['STOPPING=1'])
    }
  }
}

/**
 * Runs a server as a `Type=notify` service: watchdog pings from the start, READY=1 once `start` has
 * resolved (its HTTP server listens), STOPPING=1 before it closes. `onStop` installs the close on signals.
 */
export async function runAsService<T extends { url: string; close(): Promise<void> }>(
  command: string,
  start: () => Promise<T>,
  onStop: (close: () => Promise<void>) => void
): Promise<T> {
  const service = connectServiceManager({ onError: err => process.stderr.write(`seed-one ${command}: ${err.message}\n`) })
  const running = await start()
  onStop(async () => {
    await service.stopping().catch(() => {})
    await running.close()
  })
  await service.ready(`serving ${running.url}/`)
  return running
}
