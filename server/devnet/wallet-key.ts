// The key a command signs with: the one in its key file, or on the devnet, where a newcomer has no
// wallet, one of the devnet-only accounts (`buy`, `withdraw`, `retire`, `pair` and `publish` share it).
import { ConfigError } from '../config.ts'
import { DEVNET_CHAIN_ID } from '../chain/film-token.ts'
import { readPrivateKeyFile } from '../chain/key-file.ts'

export interface WalletKeyChoice {
  /** The key file the user named, if any. */
  keyFile: string | undefined
  /** The flag that names it, for the refusals. */
  flag: string
  chainId: number
  /** The devnet account used without a key file. */
  role: 'owner' | 'creator'
  /** Told which devnet account signs, when one does. */
  say?: (line: string) => void
}

/** The key in `keyFile`, or on the devnet its devnet-only account for `role`. */
export async function walletKey({ keyFile, flag, chainId, role, say }: WalletKeyChoice): Promise<string> {
  if (keyFile !== undefined) return await readPrivateKeyFile(keyFile, flag)
  if (chainId !== DEVNET_CHAIN_ID) throw new ConfigError(`${flag} is needed on chain ${chainId}: only the devnet has accounts of its own`)
  const { devnetAccounts } = await import('./accounts.ts')
  say?.(`(the devnet's ${role} account ${devnetAccounts[role].address}: devnet only)`)
  return devnetAccounts[role].privateKey
}
