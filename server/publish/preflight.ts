// What `seed-one publish` checks before the heavy work (probe, encode, seal, add): an explicit
// custodian's data directory, room on its disk, a chain that answers, Seed One's FilmToken at
// --contract, and a creator key the contract lets register. Each refusal names the flag and the fix,
// and leaves nothing behind: no directory made, nothing pinned, nothing sent.
import { access, stat } from 'node:fs/promises'
import os from 'node:os'
import path from 'node:path'
import { formatEther, Wallet } from '../lib/ethers.ts'
import { ConfigError, resolveChainConfig } from '../config.ts'
import { assertFilmTokenAt, connectFilmToken, type FilmTokenClient } from '../chain/film-token.ts'
import { walletKey } from '../devnet/wallet-key.ts'
import { custodyMasterKeyPath } from '../keys/custody-store.ts'
import { freeBytes } from '../storage/disk-space.ts'

/** The data directory publish works on: named, never defaulted (a default once made a second, unserved custodian). */
export function explicitDataDir(values: { 'data-dir'?: string }, env: NodeJS.ProcessEnv = process.env): string {
  const named = values['data-dir'] ?? env.SEED_ONE_DATA_DIR
  if (named === undefined || named === '')
    throw new ConfigError(
      "publish needs --data-dir (or SEED_ONE_DATA_DIR): the data directory of the custodian that keeps the film's key and releases it to buyers, " +
        'the one `seed-one start --role custodian --data-dir DIR` runs on'
    )
  return path.resolve(named)
}

/** Refuses a directory no custodian ever started on: its key would be kept where no custodian serves it. */
export async function assertCustodianDataDir(dataDir: string): Promise<void> {
  const masterKey = custodyMasterKeyPath(dataDir)
  try {
    await access(masterKey)
  } catch {
    throw new ConfigError(
      `${dataDir} is not a custodian's data directory (no ${path.relative(dataDir, masterKey)}: no custodian has started on it). ` +
        `Give --data-dir the directory your custodian runs on, or start one there first: seed-one start --role custodian --data-dir ${dataDir} --rpc-url … --contract …`
    )
  }
}

/**
 * Room for a publish, about: the sealed film and its renditions in the data directory (2× the source:
 * the SDR film about its size, an HEVC original as large again, a weak-link one under half), and their
 * plaintext in the temp work folder (1×). Counted together when both are on one filesystem.
 */
const DATA_DIR_FACTOR = 2
const WORK_DIR_FACTOR = 1

async function room(dir: string): Promise<{ free: number; device: number }> {
  return { free: await freeBytes(dir), device: (await stat(dir)).dev }
}

/** The nearest existing folder of `dir` (the data directory itself exists once a custodian started there). */
async function existing(dir: string): Promise<string> {
  for (let at = dir; ; at = path.dirname(at)) {
    if (
      await access(at).then(
        () => true,
        () => false
      )
    )
      return at
    if (at === path.dirname(at)) return at
  }
}

const gb = (bytes: number): string => `${(bytes / 1e9).toFixed(1)} GB`

export async function assertDiskRoom(dataDir: string, sourceBytes: number, workDir: string = os.tmpdir()): Promise<void> {
  const data = await room(await existing(dataDir))
  const work = await room(workDir)
  const needData = sourceBytes * DATA_DIR_FACTOR
  const needWork = sourceBytes * WORK_DIR_FACTOR
  if (data.device === work.device && data.free < needData + needWork)
    throw new ConfigError(
      `not enough disk: ${dataDir} and the work folder ${workDir} share ${gb(data.free)} free, and publishing a ${gb(sourceBytes)} source needs about ${gb(needData + needWork)} ` +
        `(${DATA_DIR_FACTOR + WORK_DIR_FACTOR}× its size: sealed copies and renditions, and their work files): free some, or set TMPDIR to a folder on another disk`
    )
  if (data.free < needData)
    throw new ConfigError(
      `not enough disk in --data-dir ${dataDir}: ${gb(data.free)} free, and a ${gb(sourceBytes)} source needs about ${gb(needData)} (${DATA_DIR_FACTOR}× its size, sealed with its renditions): free some`
    )
  if (work.free < needWork)
    throw new ConfigError(
      `not enough disk in the work folder ${workDir}: ${gb(work.free)} free, and a ${gb(sourceBytes)} source needs about ${gb(needWork)}: free some, or set TMPDIR to a folder with room`
    )
}

/** Refuses a key the contract would not let register: no CREATOR_ROLE (registerFilm's only rule of the caller), no gas money. */
async function assertCreator(client: FilmTokenClient, creator: Wallet, contract: string): Promise<void> {
  const role = (await client.contract.getFunction('CREATOR_ROLE')()) as string
  if (!((await client.contract.getFunction('hasRole')(role, creator.address)) as boolean))
    throw new ConfigError(
      `the key in --creator-key-file (address ${creator.address}) is not a creator on the contract ${contract}: ` +
        `registerFilm takes only accounts with CREATOR_ROLE; the contract's admin grants it (grantRole(CREATOR_ROLE, ${creator.address})), or use the key of a creator it has`
    )
  const balance = await client.provider.getBalance(creator.address)
  if (balance === 0n)
    throw new ConfigError(
      `the creator ${creator.address} (--creator-key-file) holds ${formatEther(balance)} ETH on chain ${client.chainId}: the registration's gas needs some; fund it`
    )
}

export interface CheckedChain {
  client: FilmTokenClient
  creator: Wallet
}

/** The chain answers at --rpc-url, --contract is Seed One's FilmToken there, the key is a creator's; the caller destroys client.provider. */
export async function checkChain(
  values: Parameters<typeof resolveChainConfig>[0] & { 'creator-key-file'?: string }
): Promise<CheckedChain> {
  const chain = resolveChainConfig(values)
  const client = await connectFilmToken(chain) // its refusal names --rpc-url
  try {
    await assertFilmTokenAt(client, chain)
    const creator = new Wallet(
      await walletKey({ keyFile: values['creator-key-file'], flag: '--creator-key-file', chainId: client.chainId, role: 'creator' }),
      client.provider
    )
    await assertCreator(client, creator, chain.contractAddress)
    return { client, creator }
  } catch (err) {
    client.provider.destroy()
    throw err
  }
}
