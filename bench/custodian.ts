// The custodian daemon several benchmarks publish from: in the benchmark's own process, on loopback,
// following the devnet, configured from flags as `seed-one start --role custodian` would be.
import path from 'node:path'
import { JsonRpcProvider } from 'ethers'
import { resolveDaemonConfig } from '../server/config.ts'
import { startDaemon, type Daemon } from '../server/daemon.ts'
import { startDevnet, type Devnet, type DevnetInfo } from '../server/devnet/devnet.ts'
import { freePort, startDaemonProcess, type DaemonProcess } from '../test/helpers/daemon-process.ts'
import { devnetCliFlags } from '../test/helpers/devnet.ts'

/** The flags that point a daemon at the devnet, on loopback, without mDNS. */
export function devnetFlags(devnet: DevnetInfo) {
  return {
    'rpc-url': devnet.rpcUrl,
    contract: devnet.contractAddress,
    'deployment-block': String(devnet.deploymentBlock),
    'p2p-listen': ['/ip4/127.0.0.1/tcp/0'],
    mdns: 'off'
  }
}

export async function startBenchCustodian(devnet: DevnetInfo, dir: string): Promise<Daemon> {
  const flags = { ...devnetFlags(devnet), 'data-dir': path.join(dir, 'custodian'), port: '0', role: ['custodian'] }
  return await startDaemon(resolveDaemonConfig(flags, {}), { logLevel: 'warn' })
}

/** A provider on the devnet that polls every 20 ms and caches nothing: a benchmark times the chain, not the client. */
export function benchProvider(devnet: DevnetInfo): JsonRpcProvider {
  return new JsonRpcProvider(devnet.rpcUrl, devnet.chainId, { staticNetwork: true, cacheTimeout: -1, pollingInterval: 20 })
}

/** A devnet, a benchProvider on it and a custodian daemon with its data under `dir`: where most benchmarks start. */
export interface BenchChain {
  devnet: Devnet
  provider: JsonRpcProvider
  custodian: Daemon
  /** Stops the custodian, the provider and the devnet. */
  close(): Promise<void>
}

export async function startBenchChain(dir: string): Promise<BenchChain> {
  const devnet = await startDevnet({ port: 0 })
  const provider = benchProvider(devnet)
  const stopChain = async (): Promise<void> => {
    provider.destroy()
    await devnet.close()
  }
  let custodian: Daemon
  try {
    custodian = await startBenchCustodian(devnet, dir)
  } catch (err) {
    await stopChain()
    throw err
  }
  return {
    devnet,
    provider,
    custodian,
    close: async () => {
      await custodian.close()
      await stopChain()
    }
  }
}

/** A player box as its own `seed-one start` process on a free port, its data under `dir`, peered with the custodian. */
export async function startBenchBox(devnet: DevnetInfo, dir: string, custodian: Daemon): Promise<DaemonProcess> {
  return await startDaemonProcess([
    '--data-dir',
    path.join(dir, 'box'),
    '--port',
    String(await freePort()),
    ...devnetCliFlags(devnet),
    '--p2p-listen',
    '/ip4/127.0.0.1/tcp/0',
    ...custodian.multiaddrs().flatMap(address => ['--peer', address])
  ])
}
