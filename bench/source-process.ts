// A benchmark's source node in a process of its own, so its CPU is not the measured side's: the
// benchmark file forks itself with `--source <n>`, and the child sends what it serves once it is up.
import { fork, type ChildProcess } from 'node:child_process'
import { mkdtemp, rm } from 'node:fs/promises'
import os from 'node:os'
import path from 'node:path'
import Fastify, { type FastifyInstance } from 'fastify'
import { generateKeyPair } from '@libp2p/crypto/keys'
import { createPeerServing, type PeerServing } from '../server/replication/peer-serving.ts'
import { createSettingsStore } from '../server/settings/settings.ts'
import { createStorageNode, type StorageNode } from '../server/storage/helia-node.ts'
import { openStateDb } from '../server/storage/state-db.ts'

/** Forks `file` with `--source <arg>` and waits for the first message it sends (its description). */
export async function startSourceProcess<T>(file: string, arg: number): Promise<{ child: ChildProcess; source: T }> {
  const child = fork(file, ['--source', String(arg)], { execPath: process.execPath, stdio: 'inherit' })
  const source = await new Promise<T>((resolve, reject) => {
    child.once('exit', code => reject(new Error(`the source process exited with ${code}`)))
    child.once('message', message => resolve(message as T))
  })
  return { child, source }
}

/** The source child's storage node: a fresh data directory, its Helia node, peer serving and an HTTP app. */
export interface SourceNode {
  dir: string
  helia: StorageNode
  serving: PeerServing
  app: FastifyInstance
}

/**
 * Runs `serve` on a fresh storage node in a temporary directory (Helia with the box's bitswap serving,
 * an unstarted Fastify app), then closes everything and removes the directory, whatever `serve` did.
 */
export async function withSourceNode(dirPrefix: string, serve: (node: SourceNode) => Promise<void>): Promise<void> {
  const dir = await mkdtemp(path.join(os.tmpdir(), dirPrefix))
  const db = await openStateDb(dir)
  const serving = await createPeerServing(createSettingsStore(db))
  const helia = await createStorageNode({
    dataDir: dir,
    privateKey: await generateKeyPair('Ed25519'),
    listen: ['/ip4/127.0.0.1/tcp/0'],
    bootstrap: [],
    bitswapBlockstore: serving.bitswapBlockstore
  })
  const app = Fastify()
  try {
    await serve({ dir, helia, serving, app })
  } finally {
    await app.close()
    await helia.close()
    await serving.close()
    await db.close()
    await rm(dir, { recursive: true, force: true })
  }
}
