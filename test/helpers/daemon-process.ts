import { spawn, type ChildProcessWithoutNullStreams } from 'node:child_process'
import { createServer } from 'node:net'
import { fileURLToPath } from 'node:url'

const CLI = fileURLToPath(new URL('../../server/cli.ts', import.meta.url))
const RUN_TIMEOUT_MS = 120_000
const START_TIMEOUT_MS = 60_000

export interface DaemonProcess {
  pid: number
  url: string
  multiaddrs: string[]
  /** Stops the process with SIGTERM and waits for it to exit. */
  close(): Promise<void>
  /** kill -9: no shutdown code runs; resolves once the process is gone. */
  kill(): Promise<void>
}

/** How `seed-one` is started: a program and its first arguments (default this checkout's CLI on this Node). */
export type CliCommand = [program: string, ...args: string[]]

/** `seed-one <args>` as a child process, its stdout and stderr gathered together. */
export function spawnCli(
  args: string[],
  opts: { timeoutMs?: number; env?: NodeJS.ProcessEnv; command?: CliCommand } = {}
): { child: ChildProcessWithoutNullStreams; output: () => string; exited: Promise<number | null> } {
  const [program, ...first] = opts.command ?? [process.execPath, CLI]
  const child = spawn(program, [...first, ...args], {
    env: { ...process.env, ...opts.env, SEED_ONE_LOG_LEVEL: 'warn', SEED_ONE_MDNS: 'off' },
    timeout: opts.timeoutMs
  })
  let output = ''
  const gather = (chunk: Buffer): void => {
    output += chunk
  }
  child.stdout.on('data', gather)
  child.stderr.on('data', gather)
  const exited = new Promise<number | null>(resolve => child.once('exit', resolve))
  return { child, output: () => output, exited }
}

/** Runs `seed-one <args>` to completion; rejects with its output when it fails. */
export async function runCli(args: string[]): Promise<string> {
  const run = spawnCli(args, { timeoutMs: RUN_TIMEOUT_MS })
  const code = await run.exited
  if (code !== 0) throw new Error(`seed-one ${args[0]} exited with ${code}:\n${run.output()}`)
  return run.output()
}

/** Runs `seed-one <args>` to its end, failing or not: its exit code and everything it printed. */
export async function runCliToEnd(args: string[]): Promise<{ code: number | null; output: string }> {
  const run = spawnCli(args, { timeoutMs: RUN_TIMEOUT_MS })
  return { code: await run.exited, output: run.output() }
}

/** Starts `seed-one start <args>` as its own process (with `env` added to ours) and waits until it serves HTTP. */
export async function startDaemonProcess(
  args: string[],
  opts: { env?: NodeJS.ProcessEnv; command?: CliCommand; startTimeoutMs?: number } = {}
): Promise<DaemonProcess> {
  const { child, output, exited } = spawnCli(['start', ...args], opts)
  const startTimeoutMs = opts.startTimeoutMs ?? START_TIMEOUT_MS
  // not waitFor: an exit must fail at once, not be retried until the timeout
  const started = Date.now()
  while (!/libp2p: .*\n/.test(output())) {
    if (child.exitCode !== null) throw new Error(`seed-one start exited with ${child.exitCode}:\n${output()}`)
    if (Date.now() - started > startTimeoutMs) {
      child.kill('SIGKILL')
      throw new Error(`seed-one start did not come up in ${startTimeoutMs} ms:\n${output()}`)
    }
    await new Promise(resolve => setTimeout(resolve, 50))
  }
  const url = /is running: (http:\/\/\S+?)\/?\n/.exec(output())?.[1] as string
  const multiaddrs = (/libp2p: (.*)\n/.exec(output())?.[1] ?? '').split(' ').filter(a => a !== '')
  return {
    pid: child.pid as number,
    url,
    multiaddrs,
    async close() {
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGTERM')
      await exited
    },
    async kill() {
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL')
      await exited
    }
  }
}

/** A port that was free a moment ago, for a daemon whose URL must be known before it starts. */
export async function freePort(): Promise<number> {
  const server = createServer()
  await new Promise<void>(resolve => server.listen(0, '127.0.0.1', resolve))
  const { port } = server.address() as { port: number }
  await new Promise(resolve => server.close(resolve))
  return port
}
