// DEVNET ONLY. These keys are derived from the publicly known test mnemonic
// "test test test test test test test test test test test junk" (the same accounts every
// Hardhat/Anvil user has). Anyone can spend from them: never use them on a real chain.
import { HDNodeWallet } from '../lib/ethers.ts'

const DEVNET_ONLY_PUBLIC_TEST_MNEMONIC = 'test test test test test test test test test test test junk'

export type DevnetAccount = { privateKey: string; address: string }

const root = HDNodeWallet.fromPhrase(DEVNET_ONLY_PUBLIC_TEST_MNEMONIC, undefined, "m/44'/60'/0'/0")

function account(index: number): DevnetAccount {
  const wallet = root.deriveChild(index)
  return { privateKey: wallet.privateKey, address: wallet.address }
}

/** The devnet's funded accounts. DEVNET ONLY: their keys are public, so only the devnet chain may use them. */
export const devnetAccounts = {
  /** deploys FilmToken and holds its admin role */
  deployer: account(0),
  /** holds CREATOR_ROLE: registers films */
  creator: account(1),
  /** the collector who owns the demo box */
  owner: account(2),
  otherCollector: account(3)
} as const

/** Every devnet account starts with this balance (10 000 ETH). */
export const DEVNET_ACCOUNT_BALANCE_WEI = 10_000n * 10n ** 18n
