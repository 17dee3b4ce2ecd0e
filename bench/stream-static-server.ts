// The baseline of the streaming benchmarks: @fastify/static serving the plaintext film, with its
// defaults, in a process of its own (like the daemon it is compared with), so its CPU time and memory
// are its own.
import { fork } from 'node:child_process'
import { once } from 'node:events'
import type { AddressInfo } from 'node:net'
import path from 'node:path'
import Fastify from 'fastify'
import fastifyStatic from '@fastify/static'

export interface StaticServer {
  pid: number
  /** The URL of the file. */
  url: string
  close(): Promise<void>
}

/** Serves `file` from a forked process. */
export async function startStaticServer(file: string): Promise<StaticServer> {
  const child = fork(import.meta.filename, [path.dirname(file)], { execPath: process.execPath, stdio: 'inherit' })
  const [base] = (await Promise.race([
    once(child, 'message'),
    once(child, 'exit').then(([code]) => Promise.reject(new Error(`the static server exited with ${code}`)))
  ])) as [string]
  return {
    pid: child.pid as number,
    url: `${base}/${path.basename(file)}`,
    close: async () => {
      if (child.exitCode !== null) return
      child.kill('SIGTERM')
      await once(child, 'exit')
    }
  }
}

if (import.meta.main) {
  const app = Fastify()
  await app.register(fastifyStatic, { root: process.argv[2] as string })
  await app.listen({ host: '127.0.0.1', port: 0 })
  process.send?.(`http://127.0.0.1:${(app.server.address() as AddressInfo).port}`)
  process.once('SIGTERM', () => void app.close().then(() => process.exit(0)))
}
