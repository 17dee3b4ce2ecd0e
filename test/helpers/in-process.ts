// seed-one daemons in this process, on 127.0.0.1 with free ports, closed when the test ends.
import path from 'node:path'
import type { Devnet } from '../../server/devnet/devnet.ts'
import { startDaemon, type Daemon, type StartOptions } from '../../server/daemon.ts'
import type { DaemonConfig, Role } from '../../server/config.ts'
import type tap from 'tap'

/** A tap (sub)test: the type of the callback's argument (the last `t.test` overload takes only it). */
export type Test = Parameters<Parameters<typeof tap.test>[0]>[0]

const testRoots = new WeakMap<Test, string>()

/** A folder of its own under the test's testdir (calling t.testdir() again would wipe the first). */
export function testDir(t: Test, name: string): string {
  let root = testRoots.get(t)
  if (root === undefined) {
    root = t.testdir()
    testRoots.set(t, root)
  }
  return path.join(root, name)
}

export function daemonConfig(devnet: Devnet, dataDir: string, roles: Role[], peers: string[] = []): DaemonConfig {
  return {
    dataDir,
    host: '127.0.0.1',
    port: 0,
    roles,
    chain: { rpcUrl: devnet.rpcUrl, contractAddress: devnet.contractAddress, deploymentBlock: devnet.deploymentBlock, confirmations: 0 },
    p2pListen: ['/ip4/127.0.0.1/tcp/0'],
    peers,
    publicUrl: 'http://127.0.0.1:0',
    unpinGraceMs: 60_000,
    offlineKeyGraceMs: 60_000,
    pinStallMs: 60_000,
    chainPollMs: 200,
    reportIntervalSec: 300,
    replicationFactor: 3,
    minReplicas: 3,
    registryPollMs: 500,
    mdns: false
  }
}

/** Starts a daemon that the test's teardown closes; closing it earlier (to restart it) is fine. */
export async function startTestDaemon(t: Test, config: DaemonConfig, opts: StartOptions = {}): Promise<Daemon> {
  const daemon = await startDaemon(config, { logLevel: 'silent', ...opts })
  let closing: Promise<void> | undefined
  const close = async (): Promise<void> => {
    closing ??= daemon.close()
    await closing
  }
  t.teardown(close)
  return { ...daemon, close }
}

/**
 * Makes `dataDir` a custodian's as the custodian role's first start does (its custody master key), for
 * tests that publish before any custodian runs there: publish refuses a directory no custodian started on.
 */
export async function makeCustodianDataDir(dataDir: string): Promise<void> {
  const { openStateDb } = await import('../../server/storage/state-db.ts')
  const { openCustodyStore } = await import('../../server/keys/custody-store.ts')
  const db = await openStateDb(dataDir)
  try {
    await openCustodyStore(dataDir, db)
  } finally {
    await db.close()
  }
}
