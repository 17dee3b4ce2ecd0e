// The local chain for development and tests: an in-process EVM served over JSON-RPC on 127.0.0.1 with
// FilmToken deployed and the devnet accounts funded. With a stateDir it survives restarts (journal.ts).
import { mkdir } from 'node:fs/promises'
import { join } from 'node:path'
import { Contract, ContractFactory, JsonRpcProvider, Network, Wallet, ZeroHash, getCreateAddress } from '../lib/ethers.ts'
import { loadFilmTokenArtifact } from '../chain/artifacts.ts'
import { DEVNET_CHAIN_ID } from '../chain/film-token.ts'
import { createShutdown } from '../lib/shutdown.ts'
import { DEVNET_ACCOUNT_BALANCE_WEI, devnetAccounts } from './accounts.ts'
import { createEdrProvider, type Eip1193Provider } from './edr-provider.ts'
import { JournalFile, blockTimestamp, journaledProvider, replayJournal, type JournalContents } from './journal.ts'
import { serveJsonRpc } from './rpc-server.ts'

export type StartDevnetOptions = {
  /** 0 picks a free port */
  port: number
  /** keeps the chain across restarts (journal.jsonl) */
  stateDir?: string
}

export type DevnetInfo = { rpcUrl: string; chainId: number; contractAddress: string; deploymentBlock: number }

export type Devnet = DevnetInfo & { accounts: typeof devnetAccounts; close(): Promise<void> }

export class DevnetStateError extends Error {
  constructor(message: string) {
    super(message)
    this.name = 'DevnetStateError'
  }
}

const JOURNAL_FILE = 'journal.jsonl'

async function openJournal(stateDir: string): Promise<{ file: JournalFile; contents: JournalContents }> {
  await mkdir(stateDir, { recursive: true })
  const journal = await JournalFile.open(join(stateDir, JOURNAL_FILE))
  const chainId = journal.contents.header?.chainId ?? DEVNET_CHAIN_ID
  if (chainId !== DEVNET_CHAIN_ID) {
    await journal.file.close()
    throw new DevnetStateError(`${journal.file.path} belongs to chain ${chainId}, not ${DEVNET_CHAIN_ID}`)
  }
  return journal
}

/** Brings a fresh EVM to the journaled state (or starts the journal of a new chain). */
async function restoreChain(evm: Eip1193Provider, { file, contents }: { file: JournalFile; contents: JournalContents }): Promise<void> {
  if (contents.header === undefined) {
    await file.append({
      journal: 'seed-one-devnet',
      version: 1,
      chainId: DEVNET_CHAIN_ID,
      genesisTimestamp: await blockTimestamp(evm, 'latest')
    })
    return
  }
  await replayJournal(evm, contents.entries)
  // Replay pinned old timestamps; let new blocks follow the wall clock again.
  const next = Math.max(Math.floor(Date.now() / 1000), (await blockTimestamp(evm, 'latest')) + 1)
  await evm.request({ method: 'evm_setNextBlockTimestamp', params: [next] })
}

/**
 * Deploys FilmToken from the deployer's first nonce and grants CREATOR_ROLE to the creator, through
 * JSON-RPC like any client. Idempotent: on a restored chain it finds the existing deployment.
 */
async function ensureFilmToken(rpcUrl: string): Promise<{ contractAddress: string; deploymentBlock: number }> {
  const provider = new JsonRpcProvider(rpcUrl, Network.from(DEVNET_CHAIN_ID), {
    staticNetwork: true,
    pollingInterval: 20,
    cacheTimeout: -1
  })
  try {
    const deployer = new Wallet(devnetAccounts.deployer.privateKey, provider)
    const contractAddress = getCreateAddress({ from: deployer.address, nonce: 0 })
    const { abi, bytecode } = await loadFilmTokenArtifact()
    const token = new Contract(contractAddress, abi, deployer)
    let deploymentBlock: number
    if ((await provider.getCode(contractAddress)) === '0x') {
      if ((await provider.getTransactionCount(deployer.address)) !== 0) {
        throw new DevnetStateError(`the deployer's first transaction did not deploy FilmToken at ${contractAddress}`)
      }
      const deployment = await new ContractFactory(abi, bytecode, deployer).deploy()
      deploymentBlock = (await deployment.deploymentTransaction()!.wait())!.blockNumber
    } else {
      // The constructor grants the admin role to the deployer: that event marks the deployment block.
      const [granted] = await token.queryFilter(token.filters.RoleGranted!(ZeroHash, deployer.address), 0)
      if (granted === undefined) throw new DevnetStateError(`no FilmToken deployment found at ${contractAddress}`)
      deploymentBlock = granted.blockNumber
    }
    const creatorRole = (await token.CREATOR_ROLE!()) as string
    if (!(await token.hasRole!(creatorRole, devnetAccounts.creator.address))) {
      await (await token.grantRole!(creatorRole, devnetAccounts.creator.address)).wait()
    }
    return { contractAddress, deploymentBlock }
  } finally {
    provider.destroy()
  }
}

/** Starts the devnet; `close` stops it and may be called more than once. */
export async function startDevnet(opts: StartDevnetOptions): Promise<Devnet> {
  const shutdown = createShutdown()
  try {
    const journal = opts.stateDir === undefined ? undefined : await openJournal(opts.stateDir)
    if (journal !== undefined) shutdown.add(() => journal.file.close())
    const evm = await createEdrProvider({
      chainId: DEVNET_CHAIN_ID,
      accounts: Object.values(devnetAccounts).map(({ privateKey }) => ({ privateKey, balanceWei: DEVNET_ACCOUNT_BALANCE_WEI })),
      genesisTimestamp: journal?.contents.header?.genesisTimestamp
    })
    if (journal !== undefined) await restoreChain(evm, journal)
    const server = await serveJsonRpc(journal === undefined ? evm : journaledProvider(evm, journal.file), { port: opts.port })
    shutdown.add(() => server.close())
    const info: DevnetInfo = { rpcUrl: server.url, chainId: DEVNET_CHAIN_ID, ...(await ensureFilmToken(server.url)) }
    return { ...info, accounts: devnetAccounts, close: shutdown.run }
  } catch (err) {
    await shutdown.run()
    throw err
  }
}
