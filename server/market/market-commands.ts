// `seed-one buy <token id>`, `seed-one withdraw` and `seed-one retire <token id>`: a collector buys a
// film, a creator takes their proceeds or retires a film without writing ethers code, on the devnet (its
// devnet-only accounts by default) or on any chain with a key file. What would make the transaction
// fail is checked first and said plainly.
import { formatEther, getAddress, Wallet, ZeroHash, type Contract } from '../lib/ethers.ts'
import { ConfigError, integer, resolveChainConfig } from '../config.ts'
import { parseFlags } from '../lib/command-flags.ts'
import { assertFilmTokenAt, connectFilmToken, type FilmTokenClient } from '../chain/film-token.ts'
import { walletKey } from '../devnet/wallet-key.ts'
import { buyFlags, retireFlags, withdrawFlags } from './market-flags.ts'

/** A refusal the user fixes: a film that is not there or sold out, a wallet without the money. */
export class MarketError extends Error {
  override name = 'MarketError'
}

interface Market {
  client: FilmTokenClient
  /** The contract, signing as `wallet`. */
  contract: Contract
  wallet: Wallet
}

type Say = (line: string) => void

const eth = (wei: bigint): string => `${formatEther(wei)} ETH`

/** The chain, the contract (checked to be a FilmToken there) and the wallet that signs. */
async function openMarket(values: { 'rpc-url'?: string; contract?: string; 'key-file'?: string }, role: 'owner' | 'creator', say: Say) {
  const chain = resolveChainConfig(values)
  const client = await connectFilmToken(chain)
  try {
    await assertFilmTokenAt(client, chain)
    const wallet = new Wallet(
      await walletKey({ keyFile: values['key-file'], flag: '--key-file', chainId: client.chainId, role, say }),
      client.provider
    )
    return { client, contract: client.contract.connect(wallet) as Contract, wallet } satisfies Market
  } catch (err) {
    client.provider.destroy()
    throw err
  }
}

/** Runs `work` on the market, and says plainly the refusals the chain gives in its own words. */
async function withMarket(market: Market, work: () => Promise<void>): Promise<void> {
  try {
    await work()
  } catch (err) {
    const { code } = err as { code?: string }
    if (code === 'INSUFFICIENT_FUNDS') {
      const balance = await market.client.provider.getBalance(market.wallet.address)
      throw new MarketError(`the wallet ${market.wallet.address} holds ${eth(balance)}, not enough for the gas too: fund it`, {
        cause: err
      })
    }
    throw err
  } finally {
    market.client.provider.destroy()
  }
}

function tokenIdOperand(command: string, positionals: string[]): bigint {
  const [text] = positionals
  if (text === undefined || positionals.length > 1 || !/^\d+$/.test(text)) {
    throw new ConfigError(`${command} takes one token id, e.g. \`seed-one ${command} 1\` (publish prints it as "tokenId")`)
  }
  return BigInt(text)
}

type Film = { creator: string; price: bigint; maxSupply: bigint; retired: boolean }

/** The film `id` on the contract, refusing one that is not there. */
async function filmOf(contract: Contract, id: bigint): Promise<Film> {
  const count = (await contract.filmCount()) as bigint
  if (id < 1n || id > count) {
    throw new MarketError(`there is no film #${id} on this contract (it has ${count}): check the token id and --contract`)
  }
  return (await contract.film(id)) as Film
}

/** The film's price for `quantity` tokens, refusing a film that is not there, retired or has too few left. */
async function priceOf(contract: Contract, id: bigint, quantity: bigint): Promise<bigint> {
  const film = await filmOf(contract, id)
  if (film.retired) throw new MarketError(`film #${id} is not for sale any more: its creator retired it from the catalogue`)
  const remaining = film.maxSupply - ((await contract['totalSupply(uint256)'](id)) as bigint)
  if (remaining === 0n) throw new MarketError(`film #${id} is not for sale any more: all ${film.maxSupply} tokens are sold`)
  if (quantity > remaining)
    throw new MarketError(`only ${remaining} tokens of film #${id} are left; ask for --quantity ${remaining} at most`)
  return film.price * quantity
}

/** `seed-one buy <token id>`: pays the contract's price for --quantity tokens (1) from the --key-file wallet. */
export async function buyCommand(args: string[], say: Say): Promise<void> {
  const { values, positionals } = parseFlags(buyFlags, args, true)
  const id = tokenIdOperand('buy', positionals)
  const quantity = BigInt(integer('quantity', values.quantity, 1, 1))
  const market = await openMarket(values, 'owner', say)
  await withMarket(market, async () => {
    const { contract, wallet, client } = market
    const cost = await priceOf(contract, id, quantity)
    const balance = await client.provider.getBalance(wallet.address)
    if (balance < cost) {
      throw new MarketError(
        `the wallet ${wallet.address} holds ${eth(balance)}; ${quantity} token(s) of film #${id} cost ${eth(cost)} and gas: fund it, or give another --key-file`
      )
    }
    const receipt = await (await contract.buy(id, quantity, { value: cost })).wait()
    const held = (await contract.balanceOf(wallet.address, id)) as bigint
    say(`bought ${quantity} token(s) of film #${id} for ${eth(cost)} (transaction ${receipt.hash})`)
    say(`${wallet.address} now holds ${held}: a box paired with this wallet fetches the film and plays it`)
  })
}

/** `seed-one withdraw`: sends the --key-file creator's proceeds from the contract to their wallet. */
export async function withdrawCommand(args: string[], say: Say): Promise<void> {
  const { values } = parseFlags(withdrawFlags, args)
  const market = await openMarket(values, 'creator', say)
  await withMarket(market, async () => {
    const { contract, wallet } = market
    const proceeds = (await contract.proceeds(wallet.address)) as bigint
    if (proceeds === 0n)
      throw new MarketError(`${wallet.address} has no proceeds to withdraw from this contract (no sales since the last withdrawal)`)
    const receipt = await (await contract.withdraw()).wait()
    say(`withdrew ${eth(proceeds)} to ${wallet.address} (transaction ${receipt.hash})`)
  })
}

/** Refuses a film retired already, and a wallet that is neither the film's creator nor the contract's admin. */
async function checkRetirable(contract: Contract, id: bigint, wallet: Wallet): Promise<void> {
  const film = await filmOf(contract, id)
  if (film.retired) throw new MarketError(`film #${id} is retired already: the network keeps it no more, and nobody can buy it`)
  if (getAddress(film.creator) === wallet.address || ((await contract.hasRole(ZeroHash, wallet.address)) as boolean)) return
  throw new MarketError(
    `film #${id} is ${film.creator}'s: only its creator or the contract's admin can retire it, and ${wallet.address} is neither; give the creator's --key-file`
  )
}

/** `seed-one retire <token id>`: takes a film out of the catalogue, signed by its --key-file creator (or the admin). */
export async function retireCommand(args: string[], say: Say): Promise<void> {
  const { values, positionals } = parseFlags(retireFlags, args, true)
  const id = tokenIdOperand('retire', positionals)
  const market = await openMarket(values, 'creator', say)
  await withMarket(market, async () => {
    const { contract, wallet } = market
    await checkRetirable(contract, id, wallet)
    const receipt = await (await contract.retireFilm(id)).wait()
    say(`retired film #${id} (transaction ${receipt.hash})`)
    say('next: nobody can buy it any more; the monitor and the storage nodes drop it from their catalogue at their next')
    say('sync once this block is confirmed, stop asking for its metadata and release their copies of it;')
    say('its holders keep their tokens and the copy on their box, and it still plays there')
  })
}
