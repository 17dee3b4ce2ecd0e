// A LevelDB that stays honest about a full disk. A write that fails for want of space leaves the log
// ending in a torn record, and LevelDB goes on taking writes: they are acknowledged, then lost at the
// next open (measured with level 10 on a full tmpfs, and on a real box). So after an IO error this
// database refuses writes until there is room, and then compacts its in-memory table into a table
// file, which starts a new log, before it takes the next one.
import { Level, type DatabaseOptions } from 'level'
import { DiskSpaceError, freeBytes } from './disk-space.ts'

const MiB = 1024 * 1024
/** Room for LevelDB to write its in-memory table out (4 MiB at most) and a new log. */
const ROOM_TO_MEND_BYTES = 16 * MiB

/** The database takes no writes until the disk has room again. */
export class DatabaseFullError extends DiskSpaceError {
  override name = 'DatabaseFullError'
  constructor(location: string, options?: ErrorOptions) {
    super(`the disk is full: the database at ${location} takes no changes until ${ROOM_TO_MEND_BYTES / MiB} MiB are free again`, options)
  }
}

/** What abstract-level's public put, del and batch call: the implementation's private write methods. */
interface LevelWrites {
  _put(key: unknown, value: unknown, options: unknown): Promise<void>
  _del(key: unknown, options: unknown): Promise<void>
  _batch(operations: unknown[], options: unknown): Promise<void>
  compactRange(start: string, end: string): Promise<void>
}
const level = Level.prototype as unknown as LevelWrites

class MendingLevel<K, V> extends Level<K, V> {
  /** The write failure that tore the log, until it is mended. */
  #torn: Error | undefined

  async _put(key: unknown, value: unknown, options: unknown): Promise<void> {
    await this.#write(() => level._put.call(this, key, value, options))
  }

  async _del(key: unknown, options: unknown): Promise<void> {
    await this.#write(() => level._del.call(this, key, options))
  }

  async _batch(operations: unknown[], options: unknown): Promise<void> {
    await this.#write(() => level._batch.call(this, operations, options))
  }

  async #write(write: () => Promise<void>): Promise<void> {
    if (this.#torn !== undefined) await this.#mend(this.#torn)
    try {
      await write()
    } catch (err) {
      if ((err as { code?: string }).code !== 'LEVEL_IO_ERROR') throw err
      this.#torn = err as Error
      throw /no space left/i.test((err as Error).message) ? new DatabaseFullError(this.location, { cause: err }) : err
    }
  }

  async #mend(cause: Error): Promise<void> {
    if ((await freeBytes(this.location)) < ROOM_TO_MEND_BYTES) throw new DatabaseFullError(this.location, { cause })
    await level.compactRange.call(this, '\u0000', '\uffff') // whatever the range, the in-memory table goes first
    this.#torn = undefined
  }
}

/** A Level at `location` that mends its log after a full disk (see above); opened by the caller. */
export function mendingLevel<K, V>(location: string, options: DatabaseOptions<K, V>): Level<K, V> {
  // level's types tie batch operations to `typeof this`, which a subclass does not match
  return new MendingLevel<K, V>(location, options) as unknown as Level<K, V>
}
