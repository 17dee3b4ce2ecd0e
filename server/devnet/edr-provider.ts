// The only module that touches @nomicfoundation/edr: its API is internal and changes between
// versions (pinned exactly in package.json), so everything version-specific stays here.
import {
  EdrContext,
  ContractDecoder,
  L1_CHAIN_TYPE,
  MineOrdering,
  l1GenesisState,
  l1HardforkFromString,
  l1ProviderFactory,
  type ProviderConfig
} from '@nomicfoundation/edr'
import { computeAddress } from '../lib/ethers.ts'

export type Eip1193Provider = {
  request(args: { method: string; params?: unknown[] }): Promise<unknown>
}

export type EdrProviderOptions = {
  chainId: number
  accounts: { privateKey: string; balanceWei: bigint }[]
  /** Unix seconds of the genesis block: a chain rebuilt from a journal gets the same block hashes. */
  genesisTimestamp?: number
}

/** A JSON-RPC error from the EVM; `data` carries revert data (hex) so callers can decode custom errors. */
export class EdrRpcError extends Error {
  readonly code: number
  readonly data: unknown
  constructor(code: number, message: string, data: unknown) {
    super(message)
    this.name = 'EdrRpcError'
    this.code = code
    this.data = data
  }
}

export class InvalidEdrOptionsError extends Error {
  constructor(message: string) {
    super(message)
    this.name = 'InvalidEdrOptionsError'
  }
}

const HARDFORK = 'cancun'
const BLOCK_GAS_LIMIT = 60_000_000n
const PRIVATE_KEY = /^0x[0-9a-fA-F]{64}$/

// EDR allows one context per process ("should only be called once").
let context: Promise<EdrContext> | undefined
function sharedContext(): Promise<EdrContext> {
  context ??= (async () => {
    const ctx = new EdrContext()
    await ctx.registerProviderFactory(L1_CHAIN_TYPE, l1ProviderFactory())
    return ctx
  })()
  return context
}

function hexToBytes(hex: string): Uint8Array {
  return Uint8Array.from(Buffer.from(hex.slice(2), 'hex'))
}

function validate(opts: EdrProviderOptions): void {
  if (!Number.isSafeInteger(opts.chainId) || opts.chainId <= 0) {
    throw new InvalidEdrOptionsError(`chainId must be a positive integer, got ${opts.chainId}`)
  }
  for (const [i, account] of opts.accounts.entries()) {
    if (!PRIVATE_KEY.test(account.privateKey)) {
      throw new InvalidEdrOptionsError(`accounts[${i}].privateKey must be 0x followed by 64 hex digits`)
    }
    if (account.balanceWei < 0n) {
      throw new InvalidEdrOptionsError(`accounts[${i}].balanceWei must not be negative`)
    }
  }
}

// EDR nests revert data as `{ reason, data: '0x…', transactionHash }`; clients (ethers among them)
// expect the geth shape, `error.data` = the revert data hex, to decode custom errors.
function revertData(data: unknown): string | undefined {
  if (typeof data === 'object' && data !== null && 'data' in data && typeof data.data === 'string') return data.data
  return undefined
}

/**
 * An in-process EVM (automine, cancun) with the given accounts funded and unlocked
 * (eth_sendTransaction works for them), exposed as an EIP-1193 provider.
 */
export async function createEdrProvider(opts: EdrProviderOptions): Promise<Eip1193Provider> {
  validate(opts)
  const hardfork = l1HardforkFromString(HARDFORK)
  const config: ProviderConfig = {
    allowBlocksWithSameTimestamp: false,
    allowUnlimitedContractSize: false,
    bailOnCallFailure: true,
    // Like a public chain: a reverting transaction is mined and its receipt has status 0.
    bailOnTransactionFailure: false,
    chainId: BigInt(opts.chainId),
    coinbase: new Uint8Array(20),
    defaultTransactionGasLimit: 30_000_000n,
    genesisState: [
      ...l1GenesisState(hardfork),
      ...opts.accounts.map(a => ({ address: hexToBytes(computeAddress(a.privateKey)), balance: a.balanceWei }))
    ],
    hardfork: HARDFORK,
    initialBaseFeePerGas: 1_000_000_000n,
    minGasPrice: 0n,
    mining: { autoMine: true, blockGasLimit: BLOCK_GAS_LIMIT, memPool: { order: MineOrdering.Priority } },
    network: {
      genesisBlockGasLimit: BLOCK_GAS_LIMIT,
      ...(opts.genesisTimestamp !== undefined ? { genesisBlockTime: BigInt(opts.genesisTimestamp) } : {})
    },
    networkId: BigInt(opts.chainId),
    observability: {},
    ownedAccounts: opts.accounts.map(a => a.privateKey),
    precompileOverrides: []
  }
  const ctx = await sharedContext()
  const provider = await ctx.createProvider(
    L1_CHAIN_TYPE,
    config,
    { enable: false, decodeConsoleLogInputsCallback: () => [], printLineCallback: () => {} },
    { subscriptionCallback: () => {} },
    new ContractDecoder()
  )

  let nextId = 1
  return {
    async request({ method, params = [] }) {
      const response = await provider.handleRequest(JSON.stringify({ jsonrpc: '2.0', id: nextId++, method, params }))
      const body = typeof response.data === 'string' ? JSON.parse(response.data) : response.data
      if (body.error !== undefined) {
        const { code, message, data } = body.error as { code: number; message: string; data?: unknown }
        throw new EdrRpcError(code, message, revertData(data) ?? data)
      }
      return body.result
    }
  }
}
