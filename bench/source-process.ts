// A benchmark's source node in a process of its own, so its CPU is not the measured side's: the
// benchmark file forks itself with `--source <n>`, and the child sends what it serves once it is up.
import { fork, type ChildProcess } from 'node:child_process'

/** Forks `file` with `--source <arg>` and waits for the first message it sends (its description). */
export async function startSourceProcess<T>(file: string, arg: number): Promise<{ child: ChildProcess; source: T }> {
  const child = fork(file, ['--source', String(arg)], { execPath: process.execPath, stdio: 'inherit' })
  const source = await new Promise<T>((resolve, reject) => {
    child.once('exit', code => reject(new Error(`the source process exited with ${code}`)))
    child.once('message', message => resolve(message as T))
  })
  return { child, source }
}
