// Where a process's log lines go and how they read: pino's JSON lines for the journal and for anything
// that reads them (a pipe, a file, a test), and pino-pretty's coloured lines for a person at a terminal.
import { createRequire } from 'node:module'
import type { PrettyOptions } from 'pino-pretty'

/** What pino writes its lines to. */
export interface LogStream {
  write(line: string): void
}

/** A person reads stdout: it is a terminal, and not one systemd gave (JOURNAL_STREAM is set under systemd). */
export function readByAPerson(out: { isTTY?: boolean } = process.stdout, env: NodeJS.ProcessEnv = process.env): boolean {
  return out.isTTY === true && env.JOURNAL_STREAM === undefined
}

/**
 * The stream a logger writes to: `given` (tests), else pino-pretty on a terminal, else undefined
 * (pino's own JSON to stdout). pino-pretty is loaded only for a terminal: a box under systemd never does.
 */
export function logStream(given?: LogStream): LogStream | undefined {
  if (given !== undefined || !readByAPerson()) return given
  const pretty = createRequire(import.meta.url)('pino-pretty') as (options: PrettyOptions) => LogStream
  return pretty({ colorize: true, translateTime: 'SYS:HH:MM:ss', ignore: 'pid,hostname' })
}
