// `seed-one pair <code>`: the owner's wallet signs the code a box's TV shows, from the command line,
// as the phone's pairing page (ui/pair.js) does with an injected wallet: a rack's player or a devnet
// box pairs without a phone. The same three steps of the pairing routes (server/pairing/routes.ts).
import { Wallet } from '../lib/ethers.ts'
import { ConfigError } from '../config.ts'
import { parseFlags } from '../lib/command-flags.ts'
import { walletKey } from '../devnet/wallet-key.ts'
import { pairFlags } from './market-flags.ts'
import { CODE_PATTERN } from '../pairing/pairing-code.ts'

type Say = (line: string) => void

/** One of the box's answers as JSON; a refusal becomes an error carrying the box's own message. */
async function boxAnswer<T>(response: Response, what: string): Promise<T> {
  const body = (await response.json().catch(() => ({}))) as T & { message?: string }
  if (!response.ok) throw new ConfigError(`${what}: ${response.status} ${body.message ?? response.statusText}`)
  return body
}

function codeOperand(positionals: string[]): string {
  const code = positionals[0]?.toUpperCase()
  if (code === undefined || positionals.length > 1 || !new RegExp(CODE_PATTERN).test(code)) {
    throw new ConfigError('pair takes the 8-character code the TV shows, e.g. `seed-one pair K7QF2MXA --url http://127.0.0.1:8080`')
  }
  return code
}

/** `seed-one pair <code>`: asks the box for the message naming it and the code, signs it, sends it. */
export async function pairCommand(args: string[], say: Say): Promise<void> {
  const { values, positionals } = parseFlags(pairFlags, args, true)
  const code = codeOperand(positionals)
  const url = (values.url ?? 'http://127.0.0.1:8080').replace(/\/+$/, '')
  let status: { chainId: number }
  try {
    status = await boxAnswer(await fetch(`${url}/api/status`), `GET ${url}/api/status`)
  } catch (err) {
    if (err instanceof ConfigError) throw err
    throw new ConfigError(`no Seed One answers at ${url} (${(err as Error).message}): check --url`, { cause: err })
  }
  const owner = new Wallet(
    await walletKey({ keyFile: values['key-file'], flag: '--key-file', chainId: status.chainId, role: 'owner', say })
  )
  const query = new URLSearchParams({ address: owner.address, code })
  const { message } = await boxAnswer<{ message: string }>(
    await fetch(`${url}/api/pairing/message?${query}`),
    `the box refused the code ${code}`
  )
  const state = await boxAnswer<{ owner: string }>(
    await fetch(`${url}/api/pairing`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ message, signature: await owner.signMessage(message) })
    }),
    'the box refused the signature'
  )
  say(`signed the code ${code}: the Seed One at ${url} is paired with ${state.owner}, and the TV that showed the code is signed in`)
}
