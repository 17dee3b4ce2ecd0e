import { spawn, type ChildProcess } from 'node:child_process'
import { createServer } from 'node:net'
import { fileURLToPath } from 'node:url'

const CLI = fileURLToPath(new URL('../../server/cli.ts', import.meta.url))

export interface DaemonProcess {
  url: string
  multiaddrs: string[]
  child: ChildProcess
  output(): string
  /** Stops the process with `signal` and waits for it to exit. */
  stop(signal?: NodeJS.Signals): Promise<void>
}

/** Runs `seed-one <args>` to completion; rejects with its output when it fails. */
export async function runCli(args: string[], timeoutMs = 120_000): Promise<string> {
  const child = spawn(process.execPath, [CLI, ...args], { env: { ...process.env, SEED_ONE_LOG_LEVEL: 'warn' }, timeout: timeoutMs })
  let output = ''
  child.stdout.on('data', chunk => {
    output += chunk
  })
  child.stderr.on('data', chunk => {
    output += chunk
  })
  const code = await new Promise<number | null>(resolve => child.on('exit', resolve))
  if (code !== 0) throw new Error(`seed-one ${args[0]} exited with ${code}:\n${output}`)
  return output
}

/** Starts `seed-one start <args>` as its own process and waits until it serves HTTP. */
export async function startDaemonProcess(args: string[], timeoutMs = 60_000): Promise<DaemonProcess> {
  const child = spawn(process.execPath, [CLI, 'start', ...args], { env: { ...process.env, SEED_ONE_LOG_LEVEL: 'warn' } })
  let output = ''
  child.stdout.on('data', chunk => {
    output += chunk
  })
  child.stderr.on('data', chunk => {
    output += chunk
  })
  const exited = new Promise<void>(resolve => child.once('exit', () => resolve()))
  const started = Date.now()
  while (!/libp2p: .*\n/.test(output)) {
    if (child.exitCode !== null) throw new Error(`seed-one start exited with ${child.exitCode}:\n${output}`)
    if (Date.now() - started > timeoutMs) {
      child.kill('SIGKILL')
      throw new Error(`seed-one start did not come up in ${timeoutMs} ms:\n${output}`)
    }
    await new Promise(resolve => setTimeout(resolve, 50))
  }
  const url = /is running: (http:\/\/\S+?)\/?\n/.exec(output)?.[1] as string
  const multiaddrs = (/libp2p: (.*)\n/.exec(output)?.[1] ?? '').split(' ').filter(a => a !== '')
  return {
    url,
    multiaddrs,
    child,
    output: () => output,
    async stop(signal = 'SIGTERM') {
      if (child.exitCode === null && child.signalCode === null) child.kill(signal)
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

/** Polls `check` until it returns a value (not undefined), or fails after `timeoutMs`. */
export async function waitFor<T>(what: string, check: () => Promise<T | undefined>, timeoutMs = 60_000): Promise<T> {
  const started = Date.now()
  let lastError: unknown
  while (Date.now() - started < timeoutMs) {
    try {
      const value = await check()
      if (value !== undefined) return value
    } catch (err) {
      lastError = err
    }
    await new Promise(resolve => setTimeout(resolve, 200))
  }
  throw new Error(`timed out waiting for ${what}${lastError === undefined ? '' : `: ${String(lastError)}`}`)
}
