// The custodian daemon several benchmarks publish from: in the benchmark's own process, on loopback,
// following the devnet, configured from flags as `seed-one start --role custodian` would be.
import path from 'node:path'
import { JsonRpcProvider } from 'ethers'
import { resolveDaemonConfig } from '../server/config.ts'
import { startDaemon, type Daemon } from '../server/daemon.ts'
import type { DevnetInfo } from '../server/devnet/devnet.ts'

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
