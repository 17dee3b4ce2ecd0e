// A fresh in-process EVM with funded wallets and ethers on top, for tests.
import { BrowserProvider, ContractFactory, Wallet, id, parseEther, type Contract } from 'ethers'
import { createEdrProvider } from '../../server/devnet/edr-provider.ts'
import { loadFilmTokenArtifact } from '../../server/chain/artifacts.ts'

export const TEST_CHAIN_ID = 31337
export const TEST_BALANCE = parseEther('10000')

export type TestChain = { provider: BrowserProvider; wallets: Wallet[] }

/** Deterministic keys, so failures are reproducible. */
export function testPrivateKey(index: number): string {
  return id(`seed-one test account ${index}`)
}

export async function createTestChain(accountCount = 5): Promise<TestChain> {
  const keys = Array.from({ length: accountCount }, (_, i) => testPrivateKey(i))
  const eip1193 = await createEdrProvider({
    chainId: TEST_CHAIN_ID,
    accounts: keys.map(privateKey => ({ privateKey, balanceWei: TEST_BALANCE }))
  })
  // cacheTimeout -1: with automine every call may see a new block, so ethers must not reuse answers.
  const provider = new BrowserProvider(eip1193, TEST_CHAIN_ID, { cacheTimeout: -1, pollingInterval: 50 })
  return { provider, wallets: keys.map(k => new Wallet(k, provider)) }
}

/** Deploys FilmToken from `deployer`, who becomes its admin. */
export async function deployFilmToken(deployer: Wallet): Promise<Contract> {
  const { abi, bytecode } = await loadFilmTokenArtifact()
  const contract = await new ContractFactory(abi, bytecode, deployer).deploy()
  await contract.waitForDeployment()
  return contract as Contract
}
