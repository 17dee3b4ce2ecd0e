// A film's registration on chain, exactly once however often publish is killed and rerun. The signed
// transaction is kept before it is sent: a rerun finds it mined, or sends the same bytes again (the
// chain takes each nonce of the creator once), rather than registering the film a second time.
import type { Provider, Signer } from 'ethers'
import { Transaction, type Contract } from '../lib/ethers.ts'
import { filmIdFromReceipt } from '../chain/film-token.ts'

export interface SignedRegistration {
  /** The signed `registerFilm` transaction, as sent. */
  signedTx: string
  txHash: string
}

/** Where a kept registration stands once it has been sent and waited for. */
export type RegistrationOutcome =
  | { state: 'mined'; tokenId: bigint }
  /** it reverted, or another transaction of the creator took its nonce: it never registers anything */
  | { state: 'void'; reason: string }

export class RegistrationError extends Error {
  override name = 'RegistrationError'
}

function signerOf(contract: Contract): Signer & { provider: Provider } {
  const runner = contract.runner as (Signer & { provider: Provider | null }) | null
  if (runner?.signTransaction === undefined || runner.provider === null)
    throw new RegistrationError('the film contract must be connected with the creator signer and a provider')
  return runner as Signer & { provider: Provider }
}

/** Signs `registerFilm(...args)` (gas estimated first, so a call that would revert is refused here) without sending it. */
export async function signRegistration(contract: Contract, args: unknown[]): Promise<SignedRegistration> {
  const signer = signerOf(contract)
  const request = await signer.populateTransaction(await contract.getFunction('registerFilm').populateTransaction(...args))
  const signedTx = await signer.signTransaction(request)
  return { signedTx, txHash: Transaction.from(signedTx).hash as string }
}

/** Sends a kept registration (again, harmlessly, if it was sent before) and waits until it is mined. */
export async function completeRegistration(contract: Contract, registration: SignedRegistration): Promise<RegistrationOutcome> {
  const { provider } = signerOf(contract)
  const tx = Transaction.from(registration.signedTx)
  let receipt = await provider.getTransactionReceipt(registration.txHash)
  if (receipt === null) {
    try {
      await provider.broadcastTransaction(registration.signedTx)
    } catch (err) {
      // "already known", "nonce too low": sent before. The nonce count is read before the receipt,
      // so a count past the nonce with no receipt means another transaction took the nonce.
      const used = (await provider.getTransactionCount(tx.from as string, 'latest')) > tx.nonce
      receipt = await provider.getTransactionReceipt(registration.txHash)
      if (receipt === null && used) return { state: 'void', reason: `another transaction of ${tx.from} took nonce ${tx.nonce}` }
      if (receipt === null && (await provider.getTransaction(registration.txHash)) === null) throw err
    }
    // asked at once (a devnet mines as it receives), then waited for: ethers' wait polls the block number
    receipt ??= (await provider.getTransactionReceipt(registration.txHash)) ?? (await provider.waitForTransaction(registration.txHash))
  }
  if (receipt === null) throw new RegistrationError(`no receipt for the registration ${registration.txHash}`)
  if (receipt.status !== 1) return { state: 'void', reason: `the registration ${registration.txHash} reverted` }
  return { state: 'mined', tokenId: filmIdFromReceipt(contract, receipt) }
}
