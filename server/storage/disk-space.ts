// Room on the data disk for a pin. A film is pinned only while its remaining bytes fit with a reserve
// to spare: a disk filled to the last byte stops the state database too (it takes no writes until
// there is room again: storage/mending-level.ts), so the pins must never be what fills it.
import { statfs } from 'node:fs/promises'
import { SeedError } from '../lib/errors.ts'

/** Kept free for the state database, Helia's records and the logs. */
export const DISK_RESERVE_BYTES = 64 * 1024 * 1024

/** Not enough room on the data disk. */
export class DiskSpaceError extends SeedError {
  override name = 'DiskSpaceError'
  constructor(message: string, options?: ErrorOptions) {
    super('SEED_DISK_FULL', message, options)
  }
}

const mib = (bytes: number): string => `${Math.ceil(bytes / (1024 * 1024))} MiB`

/** Bytes an unprivileged writer may still use on the file system holding `dir`. */
export async function freeBytes(dir: string): Promise<number> {
  const stats = await statfs(dir)
  return stats.bavail * stats.bsize
}

/** Throws a DiskSpaceError unless `bytes` more fit on the disk holding `dir` with the reserve left over. */
export async function ensureRoomFor(dir: string, bytes: number): Promise<void> {
  const free = await freeBytes(dir)
  if (free - bytes >= DISK_RESERVE_BYTES) return
  throw new DiskSpaceError(
    `not enough disk space: ${mib(bytes)} more are needed, ${mib(free)} are free and ${mib(DISK_RESERVE_BYTES)} are kept for the box's own records`
  )
}

/** The reason to show for an error a lack of disk space caused (Helia's stores keep only the message of an ENOSPC), else undefined. */
export function diskSpaceReason(err: unknown): string | undefined {
  if (err instanceof DiskSpaceError) return err.message
  const message = err instanceof Error ? err.message : String(err)
  if ((err as NodeJS.ErrnoException).code !== 'ENOSPC' && !/ENOSPC|no space left on device/i.test(message)) return undefined
  return `the disk is full: ${message}`
}
