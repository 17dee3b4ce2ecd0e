// A devnet in this process and clients of it over JSON-RPC, each closed when the test ends.
import { Contract, JsonRpcProvider, Wallet, type InterfaceAbi } from 'ethers'
import { loadFilmTokenArtifact } from '../../server/chain/artifacts.ts'
import { startDevnet, type Devnet, type DevnetInfo, type StartDevnetOptions } from '../../server/devnet/devnet.ts'
import type { Test } from './in-process.ts'

const { abi } = await loadFilmTokenArtifact()

/** A devnet on a free port (unless told), in memory unless given a stateDir; closing it earlier is fine. */
export async function startTestDevnet(t: Test, opts: Partial<StartDevnetOptions> = {}): Promise<Devnet> {
  const devnet = await startDevnet({ port: 0, ...opts })
  t.teardown(() => devnet.close())
  return devnet
}

/** A client of the devnet that outlives restarts on the same port; destroyed when the test ends. */
export function devnetProvider(t: Test, devnet: Devnet): JsonRpcProvider {
  // cacheTimeout -1: the devnet mines on every transaction, so ethers must not reuse answers (nonces)
  const provider = new JsonRpcProvider(devnet.rpcUrl, devnet.chainId, { staticNetwork: true, cacheTimeout: -1, pollingInterval: 20 })
  t.teardown(() => provider.destroy())
  return provider
}

/** A wallet on the devnet, with a provider of its own. */
export function devnetWallet(t: Test, devnet: Devnet, privateKey: string): Wallet {
  return new Wallet(privateKey, devnetProvider(t, devnet))
}

/** The devnet's FilmToken as each devnet account sees it, over one provider. */
export function connectDevnet(t: Test, devnet: Devnet): { provider: JsonRpcProvider; creator: Contract; owner: Contract; other: Contract } {
  const provider = devnetProvider(t, devnet)
  const as = (key: string): Contract => new Contract(devnet.contractAddress, abi as InterfaceAbi, new Wallet(key, provider))
  return {
    provider,
    creator: as(devnet.accounts.creator.privateKey),
    owner: as(devnet.accounts.owner.privateKey),
    other: as(devnet.accounts.otherCollector.privateKey)
  }
}

/** The flags that point `seed-one start` or `publish` at the devnet (through `rpcUrl` when a relay stands in front of it). */
export function devnetCliFlags(devnet: DevnetInfo, rpcUrl = devnet.rpcUrl): string[] {
  return ['--rpc-url', rpcUrl, '--contract', devnet.contractAddress, '--deployment-block', String(devnet.deploymentBlock)]
}
