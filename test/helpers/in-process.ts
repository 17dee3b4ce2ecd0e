// A devnet and seed-one daemons in this process, on 127.0.0.1 with free ports, closed when the test ends.
import http from 'node:http'
import path from 'node:path'
import { JsonRpcProvider, Wallet } from 'ethers'
import { startDevnet, type Devnet } from '../../server/devnet/devnet.ts'
import { startDaemon, type Daemon } from '../../server/daemon.ts'
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

export async function startTestDevnet(t: Test): Promise<Devnet> {
  const devnet = await startDevnet({ port: 0, stateDir: testDir(t, 'devnet') })
  t.teardown(async () => {
    await devnet.close()
  })
  return devnet
}

/** A wallet on the devnet; the provider never caches, since every transaction mines a block. */
export function devnetWallet(t: Test, devnet: Devnet, privateKey: string): Wallet {
  const provider = new JsonRpcProvider(devnet.rpcUrl, devnet.chainId, { staticNetwork: true, cacheTimeout: -1, pollingInterval: 20 })
  t.teardown(() => {
    provider.destroy()
  })
  return new Wallet(privateKey, provider)
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
    chainPollMs: 200
  }
}

/** Starts a daemon that the test's teardown closes; closing it earlier (to restart it) is fine. */
export async function startTestDaemon(t: Test, config: DaemonConfig): Promise<Daemon> {
  const daemon = await startDaemon(config, { logLevel: 'silent' })
  let closing: Promise<void> | undefined
  const close = async (): Promise<void> => {
    closing ??= daemon.close()
    await closing
  }
  t.teardown(close)
  return { ...daemon, close }
}

export interface RawResponse {
  status: number
  body: string
}

/** An HTTP request with any headers, Host included (fetch replaces a Host header with the URL's). */
export async function rawRequest(
  url: string,
  opts: { method?: string; headers?: Record<string, string>; body?: string | Buffer } = {}
): Promise<RawResponse> {
  return await new Promise((resolve, reject) => {
    const req = http.request(url, { method: opts.method ?? 'GET', headers: opts.headers, agent: false }, res => {
      const parts: Buffer[] = []
      res.on('data', (part: Buffer) => parts.push(part))
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body: Buffer.concat(parts).toString('utf8') }))
      res.on('error', reject)
    })
    req.on('error', reject)
    req.end(opts.body)
  })
}

export async function postJson(url: string, body: unknown, headers: Record<string, string> = {}): Promise<RawResponse & { json: any }> {
  const response = await rawRequest(url, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...headers },
    body: typeof body === 'string' ? body : JSON.stringify(body)
  })
  let json: unknown
  try {
    json = JSON.parse(response.body)
  } catch {
    json = undefined
  }
  return { ...response, json }
}
