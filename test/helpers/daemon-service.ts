// A stand-in for systemd in the update tests: `node daemon-service.ts start|stop` runs the daemon at
// $SEED_ONE_INSTALL_ROOT/current, detached, as systemd runs seed-one.service (Type=notify: start returns
// once the daemon serves, and fails when it exits first). The updater drives it as --service-command.
//   TEST_SERVICE_DIR   where the pid file and the daemon's log live
//   TEST_SERVICE_HOLD  set: after the daemon is up, `start` writes <dir>/holding (its pid) and never
//                      returns, so a test can kill the updater while it waits mid-trial
//   TEST_SERVICE_NODE  the command that runs Node, as a JSON array (default this Node): the arm64 test's qemu
import { spawn } from 'node:child_process'
import { closeSync, openSync } from 'node:fs'
import { readFile, rename, rm, writeFile } from 'node:fs/promises'
import path from 'node:path'
import { RELEASE_CLI } from '../../server/update/server-build.ts'

const START_TIMEOUT_MS = 120_000
const STOP_TIMEOUT_MS = 30_000

const root = process.env.SEED_ONE_INSTALL_ROOT as string
const dir = process.env.TEST_SERVICE_DIR as string
const pidFile = path.join(dir, 'daemon.pid')
const logFile = path.join(dir, 'daemon.log')
const sleep = (ms: number): Promise<void> => new Promise(resolve => setTimeout(resolve, ms))

/** Alive and not a zombie (an orphaned daemon is reaped by whoever adopted it, maybe never in a container). */
async function alive(pid: number): Promise<boolean> {
  try {
    const stat = await readFile(`/proc/${pid}/stat`, 'utf8')
    return stat.slice(stat.lastIndexOf(')') + 2)[0] !== 'Z'
  } catch {
    return false
  }
}

async function runningPid(): Promise<number | undefined> {
  const pid = Number(await readFile(pidFile, 'utf8').catch(() => ''))
  return pid > 0 && (await alive(pid)) ? pid : undefined
}

async function start(): Promise<void> {
  if ((await runningPid()) !== undefined) return
  await rename(logFile, `${logFile}.previous`).catch(() => {})
  const log = openSync(logFile, 'a')
  const [node, ...nodeArgs] = JSON.parse(process.env.TEST_SERVICE_NODE ?? JSON.stringify([process.execPath])) as string[]
  const child = spawn(node, [...nodeArgs, path.join(root, 'current', RELEASE_CLI), 'start'], {
    detached: true,
    stdio: ['ignore', log, log]
  })
  closeSync(log)
  child.unref()
  await writeFile(pidFile, String(child.pid))
  const started = Date.now()
  for (;;) {
    const output = await readFile(logFile, 'utf8')
    if (/is running: /.test(output)) break
    if (!(await alive(child.pid as number)) || Date.now() - started > START_TIMEOUT_MS) {
      await stop()
      process.stderr.write(`the daemon did not come up:\n${output}`)
      process.exit(1)
    }
    await sleep(100)
  }
  if (process.env.TEST_SERVICE_HOLD !== undefined) {
    await writeFile(path.join(dir, 'holding'), String(process.pid))
    setInterval(() => {}, 60_000)
  }
}

async function stop(): Promise<void> {
  const pid = await runningPid()
  if (pid !== undefined) {
    process.kill(pid, 'SIGTERM')
    const stopping = Date.now()
    while (await alive(pid)) {
      if (Date.now() - stopping > STOP_TIMEOUT_MS) process.kill(pid, 'SIGKILL')
      await sleep(100)
    }
  }
  await rm(pidFile, { force: true })
}

const command = process.argv[2]
if (command === 'start') await start()
else if (command === 'stop') await stop()
else {
  process.stderr.write('usage: daemon-service.ts start|stop\n')
  process.exit(2)
}
