// The chain head as the watcher reads it, checked: an RPC that answers garbage, or for another chain,
// must fail the sync rather than move the watcher's position (a NaN block saved would lose it).
import type { JsonRpcProvider } from 'ethers'

export class ChainAnswerError extends Error {
  override name = 'ChainAnswerError'
}

/** A JSON-RPC quantity (hex, no leading zeros per the spec, but tolerated) as a safe integer. */
export function rpcQuantity(what: string, value: unknown): number {
  const n = typeof value === 'string' && /^0x[0-9a-fA-F]{1,16}$/.test(value) ? Number(BigInt(value)) : NaN
  if (!Number.isSafeInteger(n))
    throw new ChainAnswerError(`the chain RPC answered ${what} with ${JSON.stringify(value)?.slice(0, 80)}, not a number`)
  return n
}

/**
 * The head block number. With `chainId`, the RPC must also still serve that chain: one pointed at
 * another network would otherwise have the watcher read the owner's holdings there. Both questions
 * go in one batch (ethers batches requests made together), so the check costs no round trip.
 */
export async function readChainHead(provider: JsonRpcProvider, chainId?: number): Promise<number> {
  // eth_blockNumber directly: ethers' getBlockNumber() may answer from a 250 ms cache.
  const [head, servedChainId] = await Promise.all([
    provider.send('eth_blockNumber', []),
    chainId === undefined ? undefined : provider.send('eth_chainId', [])
  ])
  if (chainId !== undefined) {
    const served = rpcQuantity('eth_chainId', servedChainId)
    if (served !== chainId) throw new ChainAnswerError(`the chain RPC serves chain ${served}, not chain ${chainId} that this box follows`)
  }
  return rpcQuantity('eth_blockNumber', head)
}
