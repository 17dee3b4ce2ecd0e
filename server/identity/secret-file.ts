import { open, readFile, rename, mkdir, rm, stat, chmod } from 'node:fs/promises'
import path from 'node:path'

/** Secrets are files of mode 0600 in a 0700 folder, written atomically so a crash never leaves half a key. */
export async function writeSecretFile(file: string, bytes: Uint8Array): Promise<void> {
  await mkdir(path.dirname(file), { recursive: true, mode: 0o700 })
  const temporary = `${file}.${process.pid}.tmp`
  // left by a crash mid-write; a service restarted under the same pid (pid 1 in a container) meets it
  await rm(temporary, { force: true })
  const handle = await open(temporary, 'wx', 0o600)
  try {
    await handle.writeFile(bytes)
    await handle.sync()
  } finally {
    await handle.close()
  }
  await rename(temporary, file)
  // the rename itself must reach the disk, or a power cut right after first boot loses the new key
  const folder = await open(path.dirname(file), 'r')
  try {
    await folder.sync()
  } finally {
    await folder.close()
  }
}

/** Reads a secret file, or undefined when it does not exist yet; tightens a mode loosened by hand. */
export async function readSecretFile(file: string): Promise<Uint8Array | undefined> {
  try {
    const { mode } = await stat(file)
    if ((mode & 0o077) !== 0) await chmod(file, 0o600)
    return new Uint8Array(await readFile(file))
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined
    throw err
  }
}

/** Loads the secret at `file`, creating it with `create` on first use. */
export async function loadOrCreateSecret(file: string, create: () => Uint8Array | Promise<Uint8Array>): Promise<Uint8Array> {
  const existing = await readSecretFile(file)
  if (existing !== undefined) return existing
  const fresh = await create()
  await writeSecretFile(file, fresh)
  return fresh
}
