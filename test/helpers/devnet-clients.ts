// The devnet's FilmToken as each devnet account sees it, over JSON-RPC like any client.
import { Contract, JsonRpcProvider, Wallet, type InterfaceAbi } from 'ethers'
import { loadFilmTokenArtifact } from '../../server/chain/artifacts.ts'
import type { Devnet } from '../../server/devnet/devnet.ts'

const { abi } = await loadFilmTokenArtifact()

export function connectDevnet(devnet: Devnet): { provider: JsonRpcProvider; creator: Contract; owner: Contract; other: Contract } {
  // cacheTimeout -1: the devnet mines on every transaction, so ethers must not reuse answers (nonces)
  const provider = new JsonRpcProvider(devnet.rpcUrl, devnet.chainId, { staticNetwork: true, cacheTimeout: -1, pollingInterval: 20 })
  const as = (key: string): Contract => new Contract(devnet.contractAddress, abi as InterfaceAbi, new Wallet(key, provider))
  return {
    provider,
    creator: as(devnet.accounts.creator.privateKey),
    owner: as(devnet.accounts.owner.privateKey),
    other: as(devnet.accounts.otherCollector.privateKey)
  }
}
