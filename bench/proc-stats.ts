// What the kernel counts for another process (Linux /proc): CPU time and resident memory, and CPU pinning.
import { execFileSync } from 'node:child_process'
import { readFileSync } from 'node:fs'
import os from 'node:os'

const CLOCK_TICKS_PER_SECOND = Number(execFileSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).trim())

/** User + system CPU seconds the process (all its threads) has used so far. */
export function cpuSeconds(pid: number): number {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8')
  // the fields after the command name, which is in parentheses and may hold spaces: utime and stime are fields 14 and 15
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ')
  return (Number(fields[11]) + Number(fields[12])) / CLOCK_TICKS_PER_SECOND
}

/**
 * A figure of /proc/<pid>/status in bytes: VmRSS (resident now), VmHWM (the peak resident) or RssAnon
 * (the resident part that is the process's own, without mapped files such as the node binary).
 */
export function memoryBytes(pid: number, field: 'VmRSS' | 'VmHWM' | 'RssAnon'): number {
  const line = readFileSync(`/proc/${pid}/status`, 'utf8')
    .split('\n')
    .find(l => l.startsWith(`${field}:`))
  if (line === undefined) throw new Error(`/proc/${pid}/status has no ${field}`)
  return Number(/(\d+) kB/.exec(line)?.[1]) * 1024
}

/** Binds every thread of a process, and the threads it starts later, to one CPU. */
export function pinToCpu(pid: number, cpu: number): void {
  execFileSync('taskset', ['--all-tasks', '--cpu-list', '--pid', String(cpu), String(pid)], { stdio: 'ignore' })
}

/** Lets every thread of a process run on any CPU again. */
export function unpin(pid: number): void {
  execFileSync('taskset', ['--all-tasks', '--cpu-list', '--pid', `0-${os.cpus().length - 1}`, String(pid)], { stdio: 'ignore' })
}
