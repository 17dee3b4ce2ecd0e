// The owner's consent before the image's first boot erases a USB SSD that already holds data.
// Root's firmware-image/overlay/usr/lib/seed-one/data-disk.sh finds the disk and records its state in a
// file only root writes (SEED_ONE_DISK_STATE); the daemon shows it and writes the owner's decision into
// its own data directory, where seed-one-disk.path hands it back to that script, which carries it out.
import { mkdir, readFile, rename, writeFile } from 'node:fs/promises'
import path from 'node:path'
import { SeedError } from '../lib/errors.ts'

export type DiskState = 'none' | 'ready' | 'pending' | 'applying' | 'declined' | 'failed'
export type DiskDecision = 'erase' | 'keep'

export interface DiskPartition {
  name: string
  sizeBytes: number
  fstype: string | null
  label: string | null
}

export interface DataDisk {
  /** Changes whenever the disk or its partitions do: a decision names the disk the owner saw. */
  id: string
  path: string
  model: string | null
  serial: string | null
  sizeBytes: number
  /** A file system on the whole disk, without partitions. */
  fstype: string | null
  label: string | null
  partitions: DiskPartition[]
}

export interface DiskConsentView {
  state: DiskState
  disk: DataDisk | null
  message: string
  updatedAt: string | null
}

export interface DiskConsent {
  read(): Promise<DiskConsentView>
  /** Records the owner's decision for the disk waiting for consent; 409 when there is none, or another. */
  decide(decision: DiskDecision, diskId: string): Promise<DiskConsentView>
}

const NO_DISK: DiskConsentView = { state: 'none', disk: null, message: 'this Seed One has no data disk to prepare', updatedAt: null }
const RECORDED_STATES: DiskState[] = ['none', 'ready', 'pending', 'declined', 'failed']

async function readJson(file: string): Promise<unknown> {
  try {
    return JSON.parse(await readFile(file, 'utf8'))
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined
    throw err
  }
}

/** The decision file's path, as seed-one-disk.path watches it: <data dir>/appliance/disk-decision.json. */
export const decisionFile = (dataDir: string): string => path.join(dataDir, 'appliance', 'disk-decision.json')

export function createDiskConsent(opts: { stateFile: string | undefined; dataDir: string }): DiskConsent {
  const decided = decisionFile(opts.dataDir)
  const read = async (): Promise<DiskConsentView> => {
    if (opts.stateFile === undefined) return NO_DISK
    const recorded = (await readJson(opts.stateFile)) as DiskConsentView | undefined
    if (recorded === undefined) return NO_DISK
    if (!RECORDED_STATES.includes(recorded.state)) throw new Error(`${opts.stateFile}: unknown disk state "${recorded.state}"`)
    const applying = recorded.state === 'pending' && (await readJson(decided)) !== undefined
    return { ...recorded, state: applying ? 'applying' : recorded.state }
  }
  return {
    read,
    decide: async (decision, diskId) => {
      const view = await read()
      if (view.state !== 'pending' || view.disk === null)
        throw new SeedError('SEED_NO_DISK_WAITING', `no disk is waiting for consent (it is ${view.state})`)
      if (view.disk.id !== diskId)
        throw new SeedError('SEED_DISK_CHANGED', 'the disk changed since it was shown: look at it again before deciding')
      await mkdir(path.dirname(decided), { recursive: true, mode: 0o700 })
      const tmp = `${decided}.tmp`
      await writeFile(tmp, JSON.stringify({ decision, diskId, decidedAt: new Date().toISOString() }), { mode: 0o600 })
      // the path unit sees the file appear whole
      await rename(tmp, decided)
      return { ...view, state: 'applying' }
    }
  }
}
