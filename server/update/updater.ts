// `seed-one update`: a signed release goes into the slot that is not running, the daemon moves to it,
// and the move is committed only when the new version answers healthy; otherwise everything goes back.
// Every step leaves a bootable install behind (RELEASE.md "Crash safety").
import { execFile } from 'node:child_process'
import type { KeyObject } from 'node:crypto'
import { mkdir, mkdtemp, rm } from 'node:fs/promises'
import os from 'node:os'
import path from 'node:path'
import { promisify } from 'node:util'
import { downloadTarball, readManifestText, releaseSource } from './fetch-release.ts'
import { beforeDeadline, waitUntilServing } from './health-check.ts'
import {
  clearPending,
  committedSlot,
  otherSlot,
  readPending,
  readPointer,
  setPointer,
  slotDir,
  slotVersion,
  writePending,
  type PendingUpdate,
  type Slot
} from './install-root.ts'
import { verifyManifest, type ReleaseManifest } from './manifest.ts'
import { extractTarball, inspectTarball } from './release-archive.ts'
import { releaseKeyId } from './release-key.ts'
import type { ServiceControl } from './service-control.ts'
import { pathExists } from './path-exists.ts'
import { runSlotCli } from './slot-cli.ts'
import { UpdateError } from './update-error.ts'
import { takeUpdateLock } from './update-lock.ts'
import { compareVersions } from './version-order.ts'

export interface UpdaterOptions {
  /** The install root (/opt/seed-one). */
  root: string
  /** The daemon's data directory (/var/lib/seed-one): a rollback may move its data version down. */
  dataDir: string
  /** The daemon's GET /api/status. */
  statusUrl: string
  /** How long a started release has to answer healthy. */
  deadlineMs: number
  say: (line: string) => void
}

export interface UpdateOptions extends UpdaterOptions {
  /** The release public key the manifest must be signed by. */
  publicKey: KeyObject
  service: ServiceControl
  /** Install a release older than the committed one (refused by default: an old signed release may bring back old bugs). */
  allowDowngrade?: boolean
}

export type UpdateOutcome = 'committed' | 'already-installed'

interface StagedRelease {
  manifest: ReleaseManifest
  tarball: string
}

const megabytes = (bytes: number): string => `${(bytes / 1024 ** 2).toFixed(1)} MB`

async function withUpdateLock<T>(root: string, work: () => Promise<T>): Promise<T | undefined> {
  const lock = await takeUpdateLock(root)
  if (lock === undefined) return undefined
  try {
    return await work()
  } finally {
    await lock.release()
  }
}

/** Installs the release whose manifest is at `location` (a path or URL), then switches to it with a health-checked commit. */
export async function updateRelease(location: string, opts: UpdateOptions): Promise<UpdateOutcome> {
  const outcome = await withUpdateLock(opts.root, async () => {
    await resolveInterruptedUpdate(opts, opts.service)
    const pending = await installIntoInactiveSlot(location, opts)
    return pending === undefined ? 'already-installed' : await trial(pending, opts)
  })
  if (outcome === undefined) throw new UpdateError(`another seed-one update is running on ${opts.root}`)
  return outcome
}

/** Checks the release, then extracts it into the slot that is not committed; undefined when it is the committed version. */
async function installIntoInactiveSlot(location: string, opts: UpdateOptions): Promise<PendingUpdate | undefined> {
  const from = await committedSlot(opts.root)
  const fromVersion = await slotVersion(opts.root, from)
  if (fromVersion === undefined) throw new UpdateError(`the committed slot ${slotDir(opts.root, from)} has no package.json version`)
  const temporary = await mkdtemp(path.join(os.tmpdir(), 'seed-one-update-'))
  try {
    const staged = await stageRelease(location, fromVersion, temporary, opts)
    if (staged === undefined) return undefined
    const to = otherSlot(from)
    opts.say(`installing seed-one ${staged.manifest.version} into slot ${to} (slot ${from} keeps ${fromVersion})`)
    await rm(slotDir(opts.root, to), { recursive: true, force: true })
    await mkdir(slotDir(opts.root, to), { recursive: true, mode: 0o755 })
    await extractTarball(staged.tarball, slotDir(opts.root, to))
    // the new slot's files reach the disk before any pointer names it
    await promisify(execFile)('sync', ['-f', slotDir(opts.root, to)])
    return { from, fromVersion, to, toVersion: staged.manifest.version, started: new Date().toISOString() }
  } finally {
    await rm(temporary, { recursive: true, force: true })
  }
}

/**
 * Everything that can be checked before the install root is touched, in a private temporary folder:
 * the signature, the version, the tarball's size and sha256, then every tarball entry.
 */
async function stageRelease(
  location: string,
  fromVersion: string,
  temporary: string,
  opts: UpdateOptions
): Promise<StagedRelease | undefined> {
  const source = releaseSource(location)
  opts.say(`reading the release manifest ${source.name}`)
  const manifest = verifyManifest(await readManifestText(source.name), opts.publicKey)
  opts.say(`signature ok (release key ${releaseKeyId(opts.publicKey)}): seed-one ${manifest.version}, made ${manifest.created}`)
  const order = compareVersions(manifest.version, fromVersion)
  if (order === 0) {
    opts.say(`seed-one ${manifest.version} is already installed: nothing to do`)
    return undefined
  }
  if (order < 0 && opts.allowDowngrade !== true) {
    throw new UpdateError(
      `seed-one ${manifest.version} is older than the installed ${fromVersion}: refused (an old signed release can bring back fixed bugs; --allow-downgrade installs it anyway)`
    )
  }
  const tarball = path.join(temporary, manifest.file)
  opts.say(`downloading ${manifest.file} (${megabytes(manifest.size)})`)
  await downloadTarball(source.tarball(manifest.file), manifest, tarball)
  opts.say('size and sha256 match the manifest')
  const { packageVersion, entries } = await inspectTarball(tarball)
  if (packageVersion !== manifest.version) {
    throw new UpdateError(`the tarball's package.json says version ${packageVersion}, the manifest ${manifest.version}: refused`)
  }
  opts.say(`${entries} entries, all plain files and folders inside the release`)
  return { manifest, tarball }
}

/** Moves the daemon to the slot on trial; commits when it answers healthy in time, rolls back otherwise. */
async function trial(pending: PendingUpdate, opts: UpdateOptions): Promise<UpdateOutcome> {
  const { root, service, say } = opts
  // an install that never updated has no `committed` yet: record it before anything moves
  if ((await readPointer(root, 'committed')) === undefined) await setPointer(root, 'committed', pending.from)
  await writePending(root, pending)
  try {
    say(`stopping seed-one ${pending.fromVersion}`)
    await service.stop()
    await setPointer(root, 'current', pending.to)
    const deadline = Date.now() + opts.deadlineMs
    say(
      `starting seed-one ${pending.toVersion} from slot ${pending.to}: it has ${opts.deadlineMs / 1000} s to answer healthy at ${opts.statusUrl}`
    )
    await beforeDeadline(service.start(), deadline, `starting seed-one ${pending.toVersion}`)
    await waitUntilServing(opts.statusUrl, pending.toVersion, deadline)
  } catch (err) {
    const cause = (err as Error).message
    say(`seed-one ${pending.toVersion} is not healthy: ${cause}`)
    try {
      await rollBack(pending, opts, service)
    } catch (rollbackErr) {
      throw new UpdateError(
        `update to ${pending.toVersion} failed (${cause}), and so did the rollback: ${(rollbackErr as Error).message}. \`seed-one update --recover\` tries the rollback again`
      )
    }
    throw new UpdateError(
      `update to ${pending.toVersion} failed and was rolled back; seed-one ${pending.fromVersion} serves again. Cause: ${cause}`
    )
  }
  await setPointer(root, 'committed', pending.to)
  await clearPending(root)
  say(`seed-one ${pending.toVersion} is healthy: committed (slot ${pending.from} keeps ${pending.fromVersion})`)
  return 'committed'
}

/**
 * Back to the committed slot: stop the daemon, have the data directory readable by the committed release
 * again, point `current` back, and start it (without a service, as a step before a start, the caller starts it).
 */
async function rollBack(pending: PendingUpdate, opts: UpdaterOptions, service: ServiceControl | undefined): Promise<void> {
  opts.say(`rolling back to seed-one ${pending.fromVersion} (slot ${pending.from})`)
  await service?.stop()
  await makeDataReadable(pending, opts)
  await setPointer(opts.root, 'current', pending.from)
  await clearPending(opts.root)
  if (service === undefined) return
  const deadline = Date.now() + opts.deadlineMs
  await beforeDeadline(service.start(), deadline, `starting seed-one ${pending.fromVersion}`)
  await waitUntilServing(opts.statusUrl, pending.fromVersion, deadline)
  opts.say(`seed-one ${pending.fromVersion} serves again`)
}

/** When the release on trial moved the data version past what the committed release reads, its own down migrations bring it back. */
async function makeDataReadable(pending: PendingUpdate, opts: UpdaterOptions): Promise<void> {
  if (!(await pathExists(opts.dataDir))) return
  const check = JSON.parse(await runSlotCli(slotDir(opts.root, pending.from), ['migrate', '--check'], opts.dataDir)) as {
    release: number
    data: number
    readableFrom: number
  }
  if (check.data <= check.release || check.readableFrom <= check.release) return
  opts.say(
    `the data is at data version ${check.data}, seed-one ${pending.fromVersion} reads up to ${check.release}: running seed-one ${pending.toVersion}'s down migrations`
  )
  opts.say((await runSlotCli(slotDir(opts.root, pending.to), ['migrate', '--to', String(check.release)], opts.dataDir)).trim())
}

/** Resolves an update that a crash interrupted (its updater gone, pending.json left): a committed one is tidied, any other rolled back. */
async function resolveInterruptedUpdate(opts: UpdaterOptions, service: ServiceControl | undefined): Promise<boolean> {
  const pending = await readPending(opts.root)
  if (pending === undefined) return false
  opts.say(`an update to seed-one ${pending.toVersion} (slot ${pending.to}, started ${pending.started}) was interrupted`)
  if ((await readPointer(opts.root, 'committed')) === pending.to) {
    await clearPending(opts.root)
    opts.say(`it had been committed: seed-one ${pending.toVersion} stays`)
  } else {
    await rollBack(pending, opts, service)
  }
  return true
}

/**
 * `seed-one update --recover`: resolves an interrupted update. Without a service it only puts the files
 * back, for a step that runs before the daemon starts (systemd ExecStartPre).
 */
export async function recoverUpdate(opts: UpdaterOptions, service: ServiceControl | undefined): Promise<void> {
  const resolved = await withUpdateLock(opts.root, async () => await resolveInterruptedUpdate(opts, service))
  if (resolved === undefined) opts.say('an update is running (it holds the update lock): nothing to recover')
  else if (!resolved) opts.say('no interrupted update')
}

export interface InstallStatus {
  current: Slot | undefined
  committed: Slot
  pending: PendingUpdate | undefined
  slots: Record<Slot, string | undefined>
}

export async function installStatus(root: string): Promise<InstallStatus> {
  return {
    current: await readPointer(root, 'current'),
    committed: await committedSlot(root),
    pending: await readPending(root),
    slots: { a: await slotVersion(root, 'a'), b: await slotVersion(root, 'b') }
  }
}
