// Follows one owner's FilmToken holdings through plain JSON-RPC (ethers JsonRpcProvider): the same
// code for the devnet and a public chain. Only confirmed blocks count (head - confirmations); the
// processed block and the holdings are saved together so a restart resumes where it stopped.
import { Contract, Interface, getAddress, zeroPadValue, type JsonRpcProvider } from '../lib/ethers.ts'
import { createPollingLoop } from './polling-loop.ts'
import { ChainAnswerError, readChainHead } from './chain-head.ts'
import { DEVNET_CHAIN_ID } from './film-token.ts'

declare module '../storage/state-db.ts' {
  interface StateSchema {
    /** The chain this data directory belongs to, and where the watcher of each owner it followed got to. */
    chain: { chainId: number; [owner: `watcher:${string}`]: WatcherState }
  }
}

export type Holding = { quantity: string; tier: number; metadataUri: string }

export type WatcherState = { lastBlock: number; holdings: Record<string, Holding> }

export interface WatcherStore {
  load(): Promise<WatcherState | undefined>
  save(state: WatcherState): Promise<void>
}

/** Absolute figures, not deltas: applying the same change twice is harmless. */
export type HoldingsChange = { tokenId: string; quantity: string; tier: number; metadataUri: string; previousQuantity: string }

export type SyncResult = {
  /** the last block now reflected in the holdings */
  syncedBlock: number
  changes: HoldingsChange[]
  /** the chain was shorter than the saved block (a reset devnet): resynced from fromBlock */
  chainReset: boolean
}

export type ChainWatcherOptions = {
  provider: JsonRpcProvider
  contractAddress: string
  owner: string
  /** first block to read (the contract's deployment block) */
  fromBlock: number
  /** blocks that must be mined on top of a block before it counts */
  confirmations: number
  store: WatcherStore
  pollMs?: number
  /** most blocks per eth_getLogs call (default 2000) */
  blockWindow?: number
  onChange(change: HoldingsChange): void | Promise<void>
  onError?(err: unknown): void
  /** After every sync that succeeded, whether or not it found new blocks. */
  onSynced?(result: SyncResult): void
  /** The chain the watcher follows: when set, each sync first checks that the RPC still serves it. */
  chainId?: number
}

export type ChainWatcher = {
  /** polls every pollMs; after an error retries with exponential backoff */
  start(): void
  syncOnce(): Promise<SyncResult>
  close(): Promise<void>
  syncedBlock(): number
}

export class WatcherConfigError extends Error {
  constructor(message: string) {
    super(message)
    this.name = 'WatcherConfigError'
  }
}

const FILM_TOKEN_WATCH_ABI = [
  'event TransferSingle(address indexed operator, address indexed from, address indexed to, uint256 id, uint256 value)',
  'event TransferBatch(address indexed operator, address indexed from, address indexed to, uint256[] ids, uint256[] values)',
  'function balanceOfBatch(address[] accounts, uint256[] ids) view returns (uint256[])',
  'function rightsTier(address holder, uint256 id) view returns (uint256)',
  'function uri(uint256 id) view returns (string)'
]
const DEFAULT_POLL_MS = 4000
const DEFAULT_BLOCK_WINDOW = 2000
const MAX_BACKOFF_MS = 60_000

function requireBlockCount(name: string, value: number, min: number): void {
  if (!Number.isSafeInteger(value) || value < min) throw new WatcherConfigError(`${name} must be an integer >= ${min}, got ${value}`)
}

function normaliseAddress(name: string, address: string): string {
  try {
    return getAddress(address.toLowerCase())
  } catch {
    throw new WatcherConfigError(`${name} is not an address: ${address}`)
  }
}

/** The owner's side of the contract: which tokens moved to or from them, and what they hold. */
interface OwnerReads {
  provider: JsonRpcProvider
  contractAddress: string
  owner: string
  blockWindow: number
  abi: Interface
  contract: Contract
}

function ownerReads(opts: ChainWatcherOptions, blockWindow: number): OwnerReads {
  const owner = normaliseAddress('owner', opts.owner)
  const contractAddress = normaliseAddress('contractAddress', opts.contractAddress)
  const abi = new Interface(FILM_TOKEN_WATCH_ABI)
  return { provider: opts.provider, contractAddress, owner, blockWindow, abi, contract: new Contract(contractAddress, abi, opts.provider) }
}

async function tokenIdsTransferred(reads: OwnerReads, fromBlock: number, toBlock: number): Promise<Set<string>> {
  const { abi, blockWindow } = reads
  const transferTopics = [abi.getEvent('TransferSingle')!.topicHash, abi.getEvent('TransferBatch')!.topicHash]
  const ownerTopic = zeroPadValue(reads.owner, 32)
  const ids = new Set<string>()
  for (let start = fromBlock; start <= toBlock; start += blockWindow) {
    const window = { address: reads.contractAddress, fromBlock: start, toBlock: Math.min(start + blockWindow - 1, toBlock) }
    // Topic filters cannot OR across positions: one query with the owner as `from`, one as `to`.
    const [sent, received] = await Promise.all([
      reads.provider.getLogs({ ...window, topics: [transferTopics, null, ownerTopic] }),
      reads.provider.getLogs({ ...window, topics: [transferTopics, null, null, ownerTopic] })
    ])
    for (const log of [...sent, ...received]) {
      const event = abi.parseLog(log)
      if (event?.name === 'TransferSingle') ids.add((event.args.id as bigint).toString())
      if (event?.name === 'TransferBatch') for (const id of event.args.ids as bigint[]) ids.add(id.toString())
    }
  }
  return ids
}

async function readHoldings(
  reads: OwnerReads,
  ids: string[],
  known: Record<string, Holding>,
  blockTag: number
): Promise<Record<string, Holding>> {
  const { contract, owner } = reads
  const balances = (await contract.balanceOfBatch!(
    ids.map(() => owner),
    ids,
    { blockTag }
  )) as bigint[]
  const held = ids.flatMap((id, i) => (balances[i]! > 0n ? [{ id, quantity: balances[i]! }] : []))
  const holdings = await Promise.all(
    held.map(async ({ id, quantity }) => {
      const [tier, metadataUri] = await Promise.all([
        contract.rightsTier!(owner, id, { blockTag }) as Promise<bigint>,
        // A film's metadata URI never changes once registered.
        known[id]?.metadataUri ?? (contract.uri!(id, { blockTag }) as Promise<string>)
      ])
      return [id, { quantity: quantity.toString(), tier: Number(tier), metadataUri }] as const
    })
  )
  return Object.fromEntries(holdings)
}

/** The holdings after `ids` were read again, and the changes from `saved` they make. */
function applyReads(
  ids: string[],
  saved: Record<string, Holding>,
  current: Record<string, Holding>
): { holdings: Record<string, Holding>; changes: HoldingsChange[] } {
  const holdings = { ...saved }
  const changes: HoldingsChange[] = []
  for (const id of ids) {
    const before = saved[id]
    const after = current[id]
    if (after === undefined) delete holdings[id]
    else holdings[id] = after
    if (before?.quantity === after?.quantity && before?.tier === after?.tier) continue
    changes.push({
      tokenId: id,
      quantity: after?.quantity ?? '0',
      tier: after?.tier ?? 0,
      metadataUri: after?.metadataUri ?? before!.metadataUri,
      previousQuantity: before?.quantity ?? '0'
    })
  }
  return { holdings, changes }
}

export function createChainWatcher(opts: ChainWatcherOptions): ChainWatcher {
  requireBlockCount('fromBlock', opts.fromBlock, 0)
  requireBlockCount('confirmations', opts.confirmations, 0)
  const pollMs = opts.pollMs ?? DEFAULT_POLL_MS
  const blockWindow = opts.blockWindow ?? DEFAULT_BLOCK_WINDOW
  requireBlockCount('pollMs', pollMs, 1)
  requireBlockCount('blockWindow', blockWindow, 1)
  const reads = ownerReads(opts, blockWindow)
  const { provider, store } = opts
  let state: WatcherState | undefined

  async function sync(): Promise<SyncResult> {
    const saved = (state ??= (await store.load()) ?? { lastBlock: opts.fromBlock - 1, holdings: {} })
    const head = await readChainHead(provider, opts.chainId)
    const chainReset = head < saved.lastBlock
    // Only a devnet starts over; on a real chain a lower head is an RPC node that lags (or a load
    // balancer behind it), and re-reading holdings there would lock films bought since.
    if (chainReset && opts.chainId !== undefined && opts.chainId !== DEVNET_CHAIN_ID)
      throw new ChainAnswerError(
        `the chain RPC is behind: its head is block ${head}, and this box has already synced to block ${saved.lastBlock}`
      )
    const lastBlock = chainReset ? opts.fromBlock - 1 : saved.lastBlock
    const target = head - opts.confirmations
    if (target <= lastBlock) return synced({ syncedBlock: saved.lastBlock, changes: [], chainReset: false })

    const touched = await tokenIdsTransferred(reads, lastBlock + 1, target)
    // After a reset every held film is re-read: its transfers may not exist on the new chain.
    if (chainReset) for (const id of Object.keys(saved.holdings)) touched.add(id)
    const ids = [...touched]
    const current = ids.length === 0 ? {} : await readHoldings(reads, ids, saved.holdings, target)
    const { holdings, changes } = applyReads(ids, saved.holdings, current)
    // Changes go out before the save: a crash in between re-delivers them rather than losing them.
    for (const change of changes) await opts.onChange(change)
    const next = { lastBlock: target, holdings }
    await store.save(next)
    state = next
    return synced({ syncedBlock: target, changes, chainReset })
  }

  function synced(result: SyncResult): SyncResult {
    opts.onSynced?.(result)
    return result
  }

  const loop = createPollingLoop({ intervalMs: pollMs, maxBackoffMs: MAX_BACKOFF_MS, run: sync, onError: opts.onError })

  return {
    start: loop.start,
    syncOnce: loop.runOnce,
    close: loop.close,
    syncedBlock: () => state?.lastBlock ?? opts.fromBlock - 1
  }
}
