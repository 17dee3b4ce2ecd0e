// A wallet's private key in a file, as `seed-one buy`, `withdraw` and `publish` read it: one line, `0x`
// and 64 hex digits (what `cast wallet new` and MetaMask's "Export private key" give, with 0x added),
// nothing else; the file kept 0600 by its owner.
import { readFile } from 'node:fs/promises'

/** The key file's one line, checked; `flag` names the flag it came from in the refusals. */
export async function readPrivateKeyFile(file: string, flag: string): Promise<string> {
  let text: string
  try {
    text = await readFile(file, 'utf8')
  } catch (err) {
    throw new KeyFileError(`${flag} ${file} cannot be read (${(err as NodeJS.ErrnoException).code ?? (err as Error).message})`, {
      cause: err
    })
  }
  const key = text.trim()
  if (!/^0x[0-9a-fA-F]{64}$/.test(key))
    throw new KeyFileError(`${flag} ${file} must hold one private key: 0x and 64 hex digits, on one line and nothing else`)
  return key
}

export class KeyFileError extends Error {
  override name = 'KeyFileError'
}
