import type { TransactionReceipt } from 'ethers'
import { Contract, JsonRpcProvider, Network } from '../lib/ethers.ts'
import type { ChainConfig } from './chain-config.ts'
import { loadFilmTokenArtifact } from './artifacts.ts'
import { rpcConnection } from './rpc-connection.ts'
import { rpcQuantity } from './chain-head.ts'

/** The film contract over ethers' JSON-RPC provider: the same code for the devnet and a public chain. */
export interface FilmTokenClient {
  provider: JsonRpcProvider
  contract: Contract
  chainId: number
}

export class ChainUnavailableError extends Error {
  override name = 'ChainUnavailableError'
}

/** The chain id of the local devnet (the Hardhat/Anvil convention): where the devnet-only accounts live. */
export const DEVNET_CHAIN_ID = 31337

/** The devnet mines only when spoken to, so it can't ask for blocks on top; a public chain can reorg. */
export function defaultConfirmations(chainId: number): number {
  return chainId === DEVNET_CHAIN_ID ? 0 : 3
}

async function detectChainId(rpcUrl: string): Promise<number> {
  // a static network (any: eth_chainId is sent as is) so that ethers does not detect one first, print
  // "failed to detect network … retry in 1s" and retry, before this probe's own error
  const probe = new JsonRpcProvider(rpcConnection(rpcUrl, 5000), Network.from(1), { staticNetwork: true, batchMaxCount: 1 })
  try {
    return rpcQuantity('eth_chainId', await probe.send('eth_chainId', []))
  } catch (err) {
    throw new ChainUnavailableError(
      `the chain at ${rpcUrl} did not answer (${(err as Error).message}): check --rpc-url, and that the chain runs there (\`seed-one devnet\` prints the devnet's URL)`,
      { cause: err }
    )
  } finally {
    probe.destroy()
  }
}

/**
 * Connects to the chain. `knownChainId` (remembered from an earlier start) lets a box start while
 * its RPC is down: the provider is static, so ethers does not retry network detection forever.
 */
export async function connectFilmToken(chain: ChainConfig, knownChainId?: number): Promise<FilmTokenClient> {
  const chainId = knownChainId ?? (await detectChainId(chain.rpcUrl))
  const provider = new JsonRpcProvider(rpcConnection(chain.rpcUrl, chain.requestTimeoutMs), Network.from(chainId), {
    staticNetwork: true,
    polling: true,
    pollingInterval: 1000
  })
  const { abi } = await loadFilmTokenArtifact()
  return { provider, contract: new Contract(chain.contractAddress, abi, provider), chainId }
}

/** The id a `registerFilm` transaction gave its film, read from its FilmRegistered event. */
export function filmIdFromReceipt(contract: Contract, receipt: TransactionReceipt): bigint {
  for (const log of receipt.logs) {
    const event = contract.interface.parseLog(log)
    if (event?.name === 'FilmRegistered') return event.args.id as bigint
  }
  throw new Error('the registration transaction emitted no FilmRegistered event')
}
