// The network operator's say over who takes part: in allow-list mode only the device ids listed in
// the admit file (one a line, `#` comments) may report and be listed; the file is read again when it
// changes, so admitting or removing a node needs no restart. Open mode (a test network) admits any
// device that signs its reports.
import { readFile, stat } from 'node:fs/promises'
import type { FastifyBaseLogger } from 'fastify'
import type { Admission } from './monitor-config.ts'

export interface Admitted {
  /** Whether the operator admits this device now. */
  admits(deviceId: string): Promise<boolean>
}

const DEVICE_ID = /^[1-9A-HJ-NP-Za-km-z]{40,60}$/
const STAT_EVERY_MS = 1_000

export class AdmitFileError extends Error {
  override name = 'AdmitFileError'
}

async function readAdmitFile(file: string): Promise<Set<string>> {
  const ids = new Set<string>()
  for (const [i, raw] of (await readFile(file, 'utf8')).split('\n').entries()) {
    const line = raw.replace(/#.*/, '').trim()
    if (line === '') continue
    if (!DEVICE_ID.test(line))
      throw new AdmitFileError(`${file} line ${i + 1} is not a device id (a box's libp2p peer id): "${line.slice(0, 80)}"`)
    ids.add(line)
  }
  return ids
}

/** Throws when the admit file cannot be read at start; a later unreadable version keeps the last list and is logged. */
export async function createAdmission(admission: Admission, log: FastifyBaseLogger): Promise<Admitted> {
  if (admission.mode === 'open') return { admits: async () => true }
  const file = admission.admitFile
  let ids: Set<string>
  let readAtMtime: number
  try {
    readAtMtime = (await stat(file)).mtimeMs
    ids = await readAdmitFile(file)
  } catch (err) {
    if (err instanceof AdmitFileError) throw err
    throw new AdmitFileError(`the admit file ${file} cannot be read (${(err as Error).message}): create it, one device id a line`)
  }
  let statAt = Date.now()
  return {
    async admits(deviceId) {
      // a registry read asks for every node: the file is looked at once a second at most
      let mtime = readAtMtime
      if (Date.now() - statAt >= STAT_EVERY_MS) {
        statAt = Date.now()
        mtime = await stat(file).then(
          s => s.mtimeMs,
          () => readAtMtime
        )
      }
      if (mtime !== readAtMtime) {
        readAtMtime = mtime
        try {
          ids = await readAdmitFile(file)
          log.info({ admitted: ids.size }, 'admit file read again')
        } catch (err) {
          log.error({ err: (err as Error).message }, 'admit file unreadable: keeping the last list')
        }
      }
      return ids.has(deviceId)
    }
  }
}
