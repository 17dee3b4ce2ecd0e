// `seed-one pinning-token create|list|revoke`: the owner's tokens for the Pinning Service API, made,
// listed and revoked through the running daemon's socket in the data directory (token-socket.ts). Whoever
// can open that socket already owns the box's data; on a box that is the daemon's user, through sudo.
import { ConfigError, resolvePortAndDataDir } from '../config.ts'
import { parseFlags } from '../lib/command-flags.ts'
import { askLocalSocket, LocalSocketError, readJson } from '../http/local-socket.ts'
import { PINNING_TOKENS_PATH } from './token-routes.ts'
import { tokenSocketPath } from './token-socket.ts'
import { pinningTokenFlags } from './token-flags.ts'
import type { PinningToken } from './tokens.ts'

const ACTIONS = 'create --name NAME | list | revoke --id ID'

/** An answer of the socket: its status and its JSON body (undefined when it has none). */
interface Answer {
  status: number
  body: unknown
}

/** Why the socket could not be opened, and what to do. */
function unreachable(socket: string, err: LocalSocketError): Error {
  if (err.code === 'ENOENT' || err.code === 'ECONNREFUSED')
    return new Error(
      `no seed-one daemon with the storage role serves ${socket}: start it on this data directory (--data-dir, SEED_ONE_DATA_DIR) ` +
        'with --role storage, or read its log for why the socket could not be made'
    )
  if (err.code === 'EACCES')
    return new Error(`${socket} opens only to the user the daemon runs as: run this as that user (on a box: sudo -u seed-one)`)
  return err
}

async function ask(socket: string, method: string, path: string, body?: object): Promise<Answer> {
  const response = await askLocalSocket(socket, method, path, body).catch((err: Error) => {
    throw err instanceof LocalSocketError ? unreachable(socket, err) : err
  })
  return await readJson(response)
}

/** The answer's body when its status is `expected`; else the box's refusal, its code and message. */
function expect<T>(answer: Answer, expected: number): T {
  if (answer.status === expected) return answer.body as T
  const { code, message } = (answer.body ?? {}) as { code?: string; message?: string }
  throw new Error(`${message ?? `the daemon answered ${answer.status}`} (${code ?? answer.status})`)
}

export async function pinningTokenCommand(args: string[], say: (line: string) => void): Promise<void> {
  const { values, positionals } = parseFlags(pinningTokenFlags, args, true)
  const socket = tokenSocketPath(resolvePortAndDataDir(values, { defaultPort: 8080, portFromEnv: true }).dataDir)
  const [action] = positionals
  if (action === 'create') {
    if (values.name === undefined) throw new ConfigError('pinning-token create needs --name NAME: what the token is for, e.g. "my laptop"')
    const made = expect<PinningToken & { secret: string }>(await ask(socket, 'POST', PINNING_TOKENS_PATH, { name: values.name }), 201)
    say(`pinning token ${made.id} "${made.name}" made ${made.created}; its secret, shown this once (the box keeps only its hash):`)
    say(made.secret)
    say(`a tool pins with it as its bearer token, e.g. ipfs pin remote service add seedone http://<box>/api/pinning <secret>`)
  } else if (action === 'list') {
    const { tokens } = expect<{ tokens: PinningToken[] }>(await ask(socket, 'GET', PINNING_TOKENS_PATH), 200)
    if (tokens.length === 0) say('no pinning tokens')
    for (const token of tokens) say(`${token.id}  ${token.created}  ${token.name}`)
  } else if (action === 'revoke') {
    if (values.id === undefined) throw new ConfigError('pinning-token revoke needs --id ID: `seed-one pinning-token list` shows them')
    expect(await ask(socket, 'DELETE', `${PINNING_TOKENS_PATH}/${encodeURIComponent(values.id)}`), 204)
    say(`pinning token ${values.id} revoked: the tools that use it are refused from now on`)
  } else {
    throw new ConfigError(`pinning-token takes ${ACTIONS}, got ${action === undefined ? 'nothing' : `"${action}"`}`)
  }
}
