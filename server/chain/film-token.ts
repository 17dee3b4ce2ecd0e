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

/** ERC-1155's interface id (EIP-165): a FilmToken answers true to it. */
const ERC1155_INTERFACE_ID = '0xd9b67a26'

/**
 * Refuses, before anything is sent, an address that holds no FilmToken on this chain: no code there,
 * or code that does not answer as one (ERC-1155 by EIP-165, `filmCount()`, `CREATOR_ROLE()`).
 */
export async function assertFilmTokenAt(client: FilmTokenClient, chain: Pick<ChainConfig, 'rpcUrl' | 'contractAddress'>): Promise<void> {
  const where = `on the chain at ${chain.rpcUrl} (chain ${client.chainId})`
  if ((await client.provider.getCode(chain.contractAddress)) === '0x')
    throw new ChainContractError(
      `there is no contract at ${chain.contractAddress} ${where}: check --contract and --rpc-url (\`seed-one devnet\` prints both)`
    )
  const answers = await Promise.all([
    client.contract.getFunction('supportsInterface')(ERC1155_INTERFACE_ID),
    client.contract.getFunction('filmCount')(),
    client.contract.getFunction('CREATOR_ROLE')()
  ]).catch(() => undefined)
  if (answers?.[0] !== true)
    throw new ChainContractError(
      `the contract at ${chain.contractAddress} ${where} is not Seed One's FilmToken (it does not answer filmCount() and ERC-1155): check --contract (\`seed-one devnet\` prints the devnet's)`
    )
}

/** The address given as the film contract holds none. */
export class ChainContractError extends Error {
  override name = 'ChainContractError'
}
