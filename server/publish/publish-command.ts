import path from 'node:path'
import { readFile } from 'node:fs/promises'
import { Wallet, type Contract } from '../lib/ethers.ts'
import { ConfigError, resolveDaemonConfig } from '../config.ts'
import { parseFlags } from '../lib/command-flags.ts'
import { publishFlags } from './publish-flags.ts'
import { DEVNET_CHAIN_ID, connectFilmToken } from '../chain/film-token.ts'
import { CONTENT_CLASSES } from '../library/film-metadata.ts'
import { CIPHER_NAMES, DEFAULT_CIPHER } from '../sealing/format.ts'
import { openStateDb } from '../storage/state-db.ts'
import { loadOrCreateDeviceIdentity } from '../identity/device-identity.ts'
import { createStorageNode } from '../storage/helia-node.ts'
import { openCustodyStore } from '../keys/custody-store.ts'
import { publishFilm } from './publish-film.ts'
import { progressLines } from './progress-lines.ts'

/** `seed-one publish`: on a custodian's data directory, while its daemon is stopped. */
export async function publishCommand(args: string[], say: (line: string) => void): Promise<void> {
  const { values, positionals } = parseFlags(publishFlags, args, true)
  const [input] = positionals
  if (input === undefined || values.title === undefined) throw new ConfigError('publish needs a video file and --title')
  const contentClass = CONTENT_CLASSES.find(name => name === (values['content-class'] ?? 'production'))
  if (contentClass === undefined) throw new ConfigError(`--content-class must be one of ${CONTENT_CLASSES.join(', ')}`)
  const cipher = CIPHER_NAMES.find(name => name === (values.cipher ?? DEFAULT_CIPHER))
  if (cipher === undefined) throw new ConfigError(`--cipher must be one of ${CIPHER_NAMES.join(', ')}`)
  const config = resolveDaemonConfig(values)
  const chain = await connectFilmToken(config.chain)
  const creator = new Wallet(await creatorKey(values['creator-key-file'], chain.chainId), chain.provider)

  const db = await openStateDb(config.dataDir)
  const identity = await loadOrCreateDeviceIdentity(config.dataDir)
  const helia = await createStorageNode({ dataDir: config.dataDir, privateKey: identity.privateKey, listen: [], bootstrap: [] })
  try {
    const film = await publishFilm(
      {
        helia,
        db,
        custody: await openCustodyStore(config.dataDir, db),
        contract: chain.contract.connect(creator) as Contract,
        creator: creator.address,
        custodian: { url: values['custodian-url'] ?? config.publicUrl, peerId: identity.deviceId },
        onProgress: progressLines()
      },
      {
        input: path.resolve(input),
        title: values.title,
        year: values.year === undefined ? undefined : releaseYear(values.year),
        synopsis: values.synopsis,
        subtitles: (values.subtitles ?? []).map(file => ({
          file: path.resolve(file),
          language: values.language ?? 'en',
          label: values.language ?? 'English'
        })),
        contentClass,
        expiresAt: values['expires-at'],
        priceWei: values['price-wei'] === undefined ? undefined : BigInt(values['price-wei']),
        cipher
      }
    )
    say(JSON.stringify(film))
  } finally {
    await helia.close()
    await db.close()
    chain.provider.destroy()
  }
}

function releaseYear(text: string): number {
  if (!/^\d{4}$/.test(text)) throw new ConfigError(`--year must be a four-digit year, got "${text}"`)
  return Number(text)
}

/** The creator's key: from --creator-key-file, or on the devnet its devnet-only creator account. */
async function creatorKey(keyFile: string | undefined, chainId: number): Promise<string> {
  if (keyFile !== undefined) return (await readFile(keyFile, 'utf8')).trim()
  if (chainId !== DEVNET_CHAIN_ID) throw new ConfigError('--creator-key-file is required on a public chain')
  const { devnetAccounts } = await import('../devnet/accounts.ts')
  return devnetAccounts.creator.privateKey
}
