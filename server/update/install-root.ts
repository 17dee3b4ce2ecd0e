// The install root (/opt/seed-one): two release slots, slots/a and slots/b; `current`, a symlink to the
// slot systemd runs; `committed`, a symlink to the slot last confirmed healthy; and `pending.json`
// while a new slot is on trial. Each pointer changes by renaming a new symlink over it (atomic).
import { open, readFile, readlink, rename, rm, symlink } from 'node:fs/promises'
import path from 'node:path'
import { readSecretFile, writeSecretFile } from '../identity/secret-file.ts'
import { UpdateError } from './update-error.ts'

export const SLOTS = ['a', 'b'] as const
export type Slot = (typeof SLOTS)[number]
export type Pointer = 'current' | 'committed'

/** A slot on trial: written before `current` moves to it, removed once it is committed or rolled back. */
export interface PendingUpdate {
  /** The committed slot, where a rollback goes back to. */
  from: Slot
  fromVersion: string
  /** The slot on trial. */
  to: Slot
  toVersion: string
  started: string
}

export const otherSlot = (slot: Slot): Slot => (slot === 'a' ? 'b' : 'a')
export const slotDir = (root: string, slot: Slot): string => path.join(root, 'slots', slot)
const pendingFile = (root: string): string => path.join(root, 'pending.json')

async function syncDir(dir: string): Promise<void> {
  const handle = await open(dir, 'r')
  try {
    await handle.sync()
  } finally {
    await handle.close()
  }
}

/** The slot a pointer names, undefined when the pointer does not exist. */
export async function readPointer(root: string, pointer: Pointer): Promise<Slot | undefined> {
  let target: string
  try {
    target = await readlink(path.join(root, pointer))
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined
    throw new UpdateError(`${path.join(root, pointer)} is not a symlink to a slot: ${(err as Error).message}`)
  }
  const slot = SLOTS.find(s => path.resolve(root, target) === slotDir(root, s))
  if (slot === undefined) throw new UpdateError(`${path.join(root, pointer)} points at ${target}, which is not ${root}/slots/a or /slots/b`)
  return slot
}

/** Points `pointer` at `slot`: a new relative symlink renamed over the old one, then the folder synced. */
export async function setPointer(root: string, pointer: Pointer, slot: Slot): Promise<void> {
  const link = path.join(root, pointer)
  const temporary = `${link}.${process.pid}.tmp`
  await rm(temporary, { force: true })
  await symlink(path.join('slots', slot), temporary)
  await rename(temporary, link)
  await syncDir(root)
}

/** The slot confirmed healthy last: `committed`, or `current` on an install that never updated. */
export async function committedSlot(root: string): Promise<Slot> {
  const slot = (await readPointer(root, 'committed')) ?? (await readPointer(root, 'current'))
  if (slot === undefined)
    throw new UpdateError(`no release is installed at ${root} (no ${root}/current): install one first (scripts/install.sh)`)
  return slot
}

/** The version in a slot's package.json, undefined for an empty or damaged slot. */
export async function slotVersion(root: string, slot: Slot): Promise<string | undefined> {
  try {
    const { version } = JSON.parse(await readFile(path.join(slotDir(root, slot), 'package.json'), 'utf8')) as { version?: unknown }
    return typeof version === 'string' ? version : undefined
  } catch {
    return undefined
  }
}

export async function readPending(root: string): Promise<PendingUpdate | undefined> {
  const bytes = await readSecretFile(pendingFile(root))
  return bytes === undefined ? undefined : (JSON.parse(Buffer.from(bytes).toString('utf8')) as PendingUpdate)
}

/** Written atomically and synced (the secret-file writer: 0600 does no harm to a root-owned marker). */
export async function writePending(root: string, pending: PendingUpdate): Promise<void> {
  await writeSecretFile(pendingFile(root), Buffer.from(JSON.stringify(pending)))
}

export async function clearPending(root: string): Promise<void> {
  await rm(pendingFile(root), { force: true })
  await syncDir(root)
}
