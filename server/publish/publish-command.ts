import path from 'node:path'
import type { Contract, Wallet } from '../lib/ethers.ts'
import { ConfigError, resolveChainConfig, resolveDaemonConfig } from '../config.ts'
import { parseFlags, type FlagValues } from '../lib/command-flags.ts'
import { publishFlags } from './publish-flags.ts'
import { DEVNET_CHAIN_ID, type FilmTokenClient } from '../chain/film-token.ts'
import { CONTENT_CLASSES } from '../library/film-metadata.ts'
import { CIPHER_NAMES, DEFAULT_CIPHER } from '../sealing/format.ts'
import { openStateDb } from '../storage/state-db.ts'
import { loadOrCreateDeviceIdentity } from '../identity/device-identity.ts'
import { createStorageNode } from '../storage/helia-node.ts'
import { openCustodyStore } from '../keys/custody-store.ts'
import { checkExpiry, publishFilm, type PublishedFilm, type PublishRequest } from './publish-film.ts'
import { statInputFile } from './probe.ts'
import { progressLines } from './progress-lines.ts'
import { assertCustodianDataDir, assertDiskRoom, checkChain, explicitDataDir } from './preflight.ts'
import { publishThroughCustodian, runningCustodian } from './publish-client.ts'
import { publishSocketPath, type CustodianTarget } from './publish-job.ts'

type PublishValues = FlagValues<typeof publishFlags>

/**
 * `seed-one publish`: checks everything it can before the heavy work (preflight.ts), then hands the
 * job to the custodian running on the data directory (publish-socket.ts), or, none running, opens
 * the directory itself.
 */
export async function publishCommand(args: string[], say: (line: string) => void): Promise<void> {
  const { values, positionals } = parseFlags(publishFlags, args, true)
  const request = publishRequest(values, positionals)
  const dataDir = explicitDataDir(values)
  const { size } = await statInputFile(request.input)
  for (const track of request.subtitles ?? []) await statInputFile(track.file)
  const custodian = await runningCustodian(dataDir)
  if (custodian === undefined) await assertCustodianDataDir(dataDir)
  await assertDiskRoom(dataDir, size)
  const chain = await checkChain(values)
  try {
    const film =
      custodian === undefined
        ? await publishHere(dataDir, values, chain, request)
        : await publishThroughRunningCustodian(dataDir, custodian, values, chain, request, say)
    say(JSON.stringify(film))
    for (const line of whatNext(film, dataDir, resolveChainConfig(values).rpcUrl, chain.client.chainId, custodian !== undefined)) say(line)
  } finally {
    chain.client.provider.destroy()
  }
}

/** The request the flags describe, every value checked before anything is opened. */
function publishRequest(values: PublishValues, positionals: string[]): PublishRequest {
  const [input] = positionals
  if (input === undefined || values.title === undefined) throw new ConfigError('publish needs a video file and --title')
  const contentClass = CONTENT_CLASSES.find(name => name === (values['content-class'] ?? 'production'))
  if (contentClass === undefined) throw new ConfigError(`--content-class must be one of ${CONTENT_CLASSES.join(', ')}`)
  const cipher = CIPHER_NAMES.find(name => name === (values.cipher ?? DEFAULT_CIPHER))
  if (cipher === undefined) throw new ConfigError(`--cipher must be one of ${CIPHER_NAMES.join(', ')}`)
  const priceWei = values['price-wei']
  if (priceWei !== undefined && !/^\d{1,78}$/.test(priceWei))
    throw new ConfigError(`--price-wei must be a whole number of wei, got "${priceWei}"`)
  const request: PublishRequest = {
    input: path.resolve(input),
    title: values.title,
    ...(values.year !== undefined ? { year: releaseYear(values.year) } : {}),
    ...(values.synopsis !== undefined ? { synopsis: values.synopsis } : {}),
    subtitles: (values.subtitles ?? []).map(file => ({
      file: path.resolve(file),
      language: values.language ?? 'en',
      label: values.language ?? 'English'
    })),
    contentClass,
    ...(values['expires-at'] !== undefined ? { expiresAt: values['expires-at'] } : {}),
    ...(priceWei !== undefined ? { priceWei: BigInt(priceWei) } : {}),
    cipher
  }
  checkExpiry(request)
  return request
}

function releaseYear(text: string): number {
  if (!/^\d{4}$/.test(text)) throw new ConfigError(`--year must be a four-digit year, got "${text}"`)
  return Number(text)
}

/** Whether opening the state database failed because a daemon holds it (level's lock, under openStateDb's own error). */
const locked = (err: unknown): boolean => (err as { cause?: { cause?: { code?: string } } }).cause?.cause?.code === 'LEVEL_LOCKED'

/** No custodian runs on the data directory: publish opens it itself, for as long as the publish takes. */
async function publishHere(
  dataDir: string,
  values: PublishValues,
  { client, creator }: { client: FilmTokenClient; creator: Wallet },
  request: PublishRequest
): Promise<PublishedFilm> {
  const db = await openStateDb(dataDir).catch((err: unknown) => {
    if (!locked(err)) throw err
    throw new ConfigError(
      `a seed-one daemon holds ${dataDir} (its state database is locked) but takes no publish jobs there: ` +
        'publish hands the job to a daemon with --role custodian; stop this one, or start it with --role custodian ' +
        `(if it has that role, its log says why it could not make ${publishSocketPath(dataDir)}, e.g. a path too long: then give it a shorter --data-dir)`
    )
  })
  try {
    const identity = await loadOrCreateDeviceIdentity(dataDir)
    const helia = await createStorageNode({ dataDir, privateKey: identity.privateKey, listen: [], bootstrap: [] })
    try {
      const url = values['custodian-url'] ?? resolveDaemonConfig({ ...values, 'data-dir': dataDir }).publicUrl
      const ctx = {
        helia,
        db,
        custody: await openCustodyStore(dataDir, db),
        contract: client.contract.connect(creator) as Contract,
        creator: creator.address,
        custodian: { url, peerId: identity.deviceId },
        onProgress: progressLines()
      }
      return await publishFilm(ctx, request)
    } finally {
      await helia.close()
    }
  } finally {
    await db.close()
  }
}

/** A custodian runs on the data directory: the job goes to it, the creator's key with it (docs/SECURITY.md). */
async function publishThroughRunningCustodian(
  dataDir: string,
  custodian: CustodianTarget,
  values: PublishValues,
  { client, creator }: { client: FilmTokenClient; creator: Wallet },
  request: PublishRequest,
  say: (line: string) => void
): Promise<PublishedFilm> {
  const contract = await client.contract.getAddress()
  if (custodian.contract.toLowerCase() !== contract.toLowerCase() || custodian.chainId !== client.chainId)
    throw new ConfigError(
      `the custodian running on ${dataDir} registers films with the contract ${custodian.contract} on chain ${custodian.chainId}, ` +
        `not ${contract} on chain ${client.chainId}: give publish the custodian's --contract and --rpc-url`
    )
  say(`handing the publish to the custodian running on ${dataDir} (${custodian.custodianUrl})`)
  const { priceWei, ...rest } = request
  return await publishThroughCustodian(
    dataDir,
    {
      request: { ...rest, ...(priceWei !== undefined ? { priceWei: priceWei.toString() } : {}) },
      creatorKey: creator.privateKey,
      chainId: client.chainId,
      contract,
      ...(values['custodian-url'] !== undefined ? { custodianUrl: values['custodian-url'] } : {})
    },
    say
  )
}

/** What a creator does next, said once the film is registered. */
function whatNext(film: PublishedFilm, dataDir: string, rpcUrl: string, chainId: number, served: boolean): string[] {
  const devnet = chainId === DEVNET_CHAIN_ID
  return [
    `published film ${film.tokenId} "${film.title}": token id ${film.tokenId} on the contract ${film.contract} (chain ${chainId})`,
    'what next:',
    served
      ? `  - the custodian on ${dataDir} releases its key to buyers' boxes from now on`
      : `  - start the custodian on ${dataDir} (seed-one start --role custodian --data-dir ${dataDir} …) so buyers' boxes get its key`,
    `  - buy it${devnet ? ' on the devnet' : ''}: seed-one buy ${film.tokenId} --rpc-url ${rpcUrl} --contract ${film.contract}${devnet ? '' : ' --key-file <buyer key>'}`,
    "  - storage nodes (seed-one start --role storage) replicate it from its registration on chain; the monitor's fleet dashboard counts its copies",
    `  - a player paired to a wallet that holds it lists it in its library (GET /api/status shows the box's chain sync)`
  ]
}
