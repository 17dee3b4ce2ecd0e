// How the updater stops and starts the daemon. On a box that is systemd (`systemctl stop|start
// seed-one`: for a Type=notify unit, start returns once the daemon has sent READY=1, or fails). Any other
// supervisor plugs in as a command taking `stop` or `start` (an init script, or a test's own harness).
// The updater stops, then starts, rather than restarting: between the two it may move the data
// directory's version down, which needs the daemon's database closed.
import { execFile } from 'node:child_process'
import { UpdateError } from './update-error.ts'

/** Starting and stopping may take a while (a Pi with a slow disk); a hung supervisor must not hang the update. */
const CONTROL_TIMEOUT_MS = 5 * 60_000

export interface ServiceControl {
  stop(): Promise<void>
  start(): Promise<void>
}

async function run(file: string, args: string[]): Promise<void> {
  await new Promise<void>((resolve, reject) => {
    execFile(file, args, { timeout: CONTROL_TIMEOUT_MS }, (err, stdout, stderr) => {
      if (err === null) resolve()
      else reject(new UpdateError(`${[file, ...args].join(' ')} failed: ${(stderr || stdout).trim() || err.message}`))
    })
  })
}

export function systemdService(unit: string): ServiceControl {
  return { stop: () => run('systemctl', ['stop', unit]), start: () => run('systemctl', ['start', unit]) }
}

export function commandService(command: string): ServiceControl {
  return { stop: () => run(command, ['stop']), start: () => run(command, ['start']) }
}
