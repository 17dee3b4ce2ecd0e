// Persistence for the in-memory EVM: every state-changing request that took effect is appended to a
// journal (one JSON line, fsync'd before the caller sees the result) and replayed on the next start.
// Replay is deterministic because transactions are signed (EDR signs with RFC 6979 for
// eth_sendTransaction) and each mined block's timestamp is recorded relative to genesis and pinned.
import { open, type FileHandle } from 'node:fs/promises'
import { dirname } from 'node:path'
import type { Eip1193Provider } from './edr-provider.ts'

/** genesisTimestamp is the first run's genesis time: the EVM a journal is replayed into starts from it. */
export type JournalHeader = { journal: 'seed-one-devnet'; version: 1; chainId: number; genesisTimestamp: number }

export type JournalEntry = {
  method: string
  params: unknown[]
  /** seconds after genesis of the first block this request mined */
  blockTimeOffset?: number
  /** the request returned an error but still changed the chain (e.g. a reverted transaction was mined) */
  failed?: true
}

export class JournalCorruptError extends Error {
  constructor(path: string, line: number, reason: string) {
    super(`devnet journal ${path} is corrupt at line ${line}: ${reason}; move it away to start a fresh chain`)
    this.name = 'JournalCorruptError'
  }
}

export class JournalReplayError extends Error {
  constructor(index: number, method: string, reason: string) {
    super(`replaying devnet journal entry ${index} (${method}) diverged from the recorded run: ${reason}`)
    this.name = 'JournalReplayError'
  }
}

export class JournalWriteError extends Error {
  constructor(path: string, cause: unknown) {
    super(`devnet journal ${path} could not be written (${String(cause)}); the devnet refuses further state changes`, { cause })
    this.name = 'JournalWriteError'
  }
}

export class MethodNotJournalableError extends Error {
  readonly code = -32601
  constructor(method: string) {
    super(`${method} is not available on a persistent devnet: its effects could not be replayed after a restart`)
    this.name = 'MethodNotJournalableError'
  }
}

// Requests that change chain state. Time-only requests (evm_increaseTime, evm_setNextBlockTimestamp)
// are not journaled: their effect is the timestamp of the next mined block, which is recorded.
const JOURNALED_METHODS = new Set([
  'eth_sendRawTransaction',
  'eth_sendTransaction',
  'evm_mine',
  'hardhat_mine',
  'evm_setAutomine',
  'evm_snapshot',
  'evm_revert',
  'evm_setBlockGasLimit',
  'hardhat_setBalance',
  'hardhat_setCode',
  'hardhat_setNonce',
  'hardhat_setStorageAt',
  'hardhat_setCoinbase',
  'hardhat_setMinGasPrice',
  'hardhat_setNextBlockBaseFeePerGas',
  'hardhat_setPrevRandao',
  'hardhat_impersonateAccount',
  'hardhat_stopImpersonatingAccount',
  'hardhat_dropTransaction'
])
// Mining on a timer produces blocks no request accounts for; reset may fork from a remote chain.
const REFUSED_METHODS = new Set(['evm_setIntervalMining', 'hardhat_reset'])

export type JournalContents = { header: JournalHeader | undefined; entries: JournalEntry[] }

export class JournalFile {
  readonly path: string
  readonly #handle: FileHandle

  private constructor(path: string, handle: FileHandle) {
    this.path = path
    this.#handle = handle
  }

  /**
   * Opens (creating) the journal and reads it. A torn last line (a crash mid-append) is dropped and
   * cut off the file, so later appends start on a clean line.
   */
  static async open(path: string): Promise<{ file: JournalFile; contents: JournalContents }> {
    const handle = await open(path, 'a+', 0o644)
    try {
      const bytes = await handle.readFile()
      if (bytes.length === 0) await syncDirectory(dirname(path)) // the new file's directory entry must be durable too
      const completeLength = bytes.lastIndexOf(0x0a) + 1
      if (completeLength !== bytes.length) {
        await handle.truncate(completeLength)
        await handle.datasync()
      }
      const complete = bytes.subarray(0, completeLength).toString('utf8')
      return { file: new JournalFile(path, handle), contents: parseJournal(path, complete) }
    } catch (err) {
      await handle.close()
      throw err
    }
  }

  async append(record: JournalHeader | JournalEntry): Promise<void> {
    await this.#handle.write(`${JSON.stringify(record)}\n`)
    await this.#handle.datasync()
  }

  close(): Promise<void> {
    return this.#handle.close()
  }
}

async function syncDirectory(path: string): Promise<void> {
  const dir = await open(path, 'r')
  try {
    await dir.sync()
  } finally {
    await dir.close()
  }
}

function parseJournal(path: string, text: string): JournalContents {
  const lines = text.split('\n').slice(0, -1)
  if (lines.length === 0) return { header: undefined, entries: [] }
  const records = lines.map((line, i) => {
    try {
      return JSON.parse(line) as unknown
    } catch {
      throw new JournalCorruptError(path, i + 1, 'not valid JSON')
    }
  })
  const [header, ...entries] = records as [JournalHeader, ...JournalEntry[]]
  if (header.journal !== 'seed-one-devnet' || header.version !== 1) {
    throw new JournalCorruptError(path, 1, 'not a seed-one devnet journal header (version 1)')
  }
  entries.forEach((entry, i) => {
    if (typeof entry.method !== 'string' || !Array.isArray(entry.params)) {
      throw new JournalCorruptError(path, i + 2, 'entry needs a method and params')
    }
  })
  return { header, entries }
}

async function blockNumber(provider: Eip1193Provider): Promise<number> {
  return Number(await provider.request({ method: 'eth_blockNumber', params: [] }))
}

/** The timestamp (Unix seconds) of block `number`, or of the latest block. */
export async function blockTimestamp(provider: Eip1193Provider, number: number | 'latest'): Promise<number> {
  const tag = number === 'latest' ? number : `0x${number.toString(16)}`
  const block = (await provider.request({ method: 'eth_getBlockByNumber', params: [tag, false] })) as { timestamp: string }
  return Number(block.timestamp)
}

/** Re-applies journal entries in order, pinning each mined block's timestamp. */
export async function replayJournal(provider: Eip1193Provider, entries: JournalEntry[]): Promise<void> {
  const genesis = await blockTimestamp(provider, 0)
  for (const [index, entry] of entries.entries()) {
    let params = entry.params
    if (entry.blockTimeOffset !== undefined) {
      await provider.request({ method: 'evm_setNextBlockTimestamp', params: [genesis + entry.blockTimeOffset] })
      // evm_mine's optional timestamp is absolute; the pinned one above already stands for it.
      if (entry.method === 'evm_mine') params = []
    }
    let failure: unknown
    try {
      await provider.request({ method: entry.method, params })
    } catch (err) {
      failure = err
    }
    if ((failure !== undefined) !== (entry.failed === true)) {
      throw new JournalReplayError(index, entry.method, failure === undefined ? 'it succeeded, recorded as failed' : String(failure))
    }
  }
}

/**
 * Wraps `provider` so that state-changing requests run one at a time and, once they took effect,
 * are appended to `journal` before their result is returned.
 */
export function journaledProvider(provider: Eip1193Provider, journal: JournalFile): Eip1193Provider {
  let queue: Promise<unknown> = Promise.resolve()
  let genesis: number | undefined
  // After a failed append the in-memory chain is ahead of the journal; any further change would
  // make replay diverge, so state changes stop.
  let writeFailure: JournalWriteError | undefined

  async function recordAround(method: string, params: unknown[]): Promise<unknown> {
    if (writeFailure !== undefined) throw writeFailure
    genesis ??= await blockTimestamp(provider, 0)
    const before = await blockNumber(provider)
    let result: unknown
    let failure: { err: unknown } | undefined
    try {
      result = await provider.request({ method, params })
    } catch (err) {
      failure = { err }
    }
    const after = await blockNumber(provider)
    if (failure === undefined || after !== before) {
      const entry: JournalEntry = { method, params }
      if (after > before) entry.blockTimeOffset = (await blockTimestamp(provider, before + 1)) - genesis
      if (failure !== undefined) entry.failed = true
      try {
        await journal.append(entry)
      } catch (err) {
        writeFailure = new JournalWriteError(journal.path, err)
        throw writeFailure
      }
    }
    if (failure !== undefined) throw failure.err
    return result
  }

  return {
    request({ method, params = [] }) {
      if (REFUSED_METHODS.has(method)) return Promise.reject(new MethodNotJournalableError(method))
      if (!JOURNALED_METHODS.has(method)) return provider.request({ method, params })
      const run = queue.then(() => recordAround(method, params))
      queue = run.catch(() => undefined)
      return run
    }
  }
}
