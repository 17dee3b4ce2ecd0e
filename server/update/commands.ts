// The sub-commands of this folder: update, release, release-key, migrate (wired into server/cli.ts).
import { readdir } from 'node:fs/promises'
import path from 'node:path'
import { parseArgs } from 'node:util'
import { CHECKOUT_ROOT } from '../lib/checkout-root.ts'
import { ConfigError, reachableHost, resolvePortAndDataDir } from '../config.ts'
import { openStateDb } from '../storage/state-db.ts'
import { ensureUiBuilt } from '../ui/ensure-ui-built.ts'
import { MIGRATIONS } from './migration-list.ts'
import { knownDataVersion, migrateTo, migrateToLatest, readDataVersion, type MigrationStep } from './migrations.ts'
import { createReleaseKey, loadReleasePrivateKey, loadReleasePublicKey } from './release-key.ts'
import { commandService, systemdService } from './service-control.ts'
import type { UpdaterOptions } from './updater.ts'

export const UPDATE_USAGE = `  update     install a signed release <manifest path or URL (SEED_ONE_UPDATE_URL)> into the inactive slot,
                                       switch to it, health-check it, commit or roll back
                                       --root (/opt/seed-one) --data-dir (/var/lib/seed-one) --release-key (/etc/seed-one/release-key.pub)
                                       --status-url --deadline-seconds (120) --unit (seed-one) | --service-command CMD, --allow-downgrade
             update --recover [--no-service]   resolve an update a crash interrupted;  update --status   the slots
  release    make a signed release     --key-file F [--out dist] [--tree DIR] (default: this checkout and its production packages)
  release-key <file>                   make a release key pair: <file> (private, 0600) and <file>.pub
  migrate    data directory migrations --data-dir [--to N] [--check]`

const say = (line: string): void => {
  process.stdout.write(`${line}\n`)
}

function wholeNumber(flag: string, value: string, min = 0): number {
  if (!/^\d+$/.test(value) || Number(value) < min) throw new ConfigError(`--${flag} must be a whole number from ${min}, got "${value}"`)
  return Number(value)
}

async function update(args: string[]): Promise<void> {
  const { values, positionals } = parseArgs({
    args,
    allowPositionals: true,
    strict: true,
    options: {
      root: { type: 'string' },
      'data-dir': { type: 'string' },
      'release-key': { type: 'string' },
      'status-url': { type: 'string' },
      'deadline-seconds': { type: 'string' },
      unit: { type: 'string' },
      'service-command': { type: 'string' },
      'allow-downgrade': { type: 'boolean' },
      recover: { type: 'boolean' },
      'no-service': { type: 'boolean' },
      status: { type: 'boolean' }
    }
  })
  // loaded by these commands only: the daemon (`start`, every box's long-lived process) need not hold tar
  const { installStatus, recoverUpdate, updateRelease } = await import('./updater.ts')
  const env = process.env
  const root = path.resolve(values.root ?? env.SEED_ONE_INSTALL_ROOT ?? '/opt/seed-one')
  if (values.status === true) {
    say(JSON.stringify(await installStatus(root), null, 2))
    return
  }
  const { port } = resolvePortAndDataDir({}, { defaultPort: 8080, portFromEnv: true })
  const options: UpdaterOptions = {
    root,
    dataDir: path.resolve(values['data-dir'] ?? env.SEED_ONE_DATA_DIR ?? '/var/lib/seed-one'),
    statusUrl: values['status-url'] ?? `http://${reachableHost(env.SEED_ONE_HOST ?? '127.0.0.1')}:${port}/api/status`,
    deadlineMs: wholeNumber('deadline-seconds', values['deadline-seconds'] ?? '120', 1) * 1000,
    say
  }
  const command = values['service-command']
  const service = command !== undefined ? commandService(path.resolve(command)) : systemdService(values.unit ?? 'seed-one')
  if (values.recover === true) {
    await recoverUpdate(options, values['no-service'] === true ? undefined : service)
    return
  }
  // the update timer names no manifest: it follows the release channel the box is configured with
  const location = positionals[0] ?? env.SEED_ONE_UPDATE_URL
  if (location === undefined || positionals.length > 1) {
    throw new ConfigError('update needs one manifest path or URL, or SEED_ONE_UPDATE_URL (or --recover, --status)')
  }
  const publicKey = await loadReleasePublicKey(values['release-key'] ?? env.SEED_ONE_RELEASE_KEY ?? '/etc/seed-one/release-key.pub')
  await updateRelease(location, { ...options, publicKey, service, allowDowngrade: values['allow-downgrade'] })
}

async function release(args: string[]): Promise<void> {
  const { values } = parseArgs({
    args,
    strict: true,
    options: { 'key-file': { type: 'string' }, out: { type: 'string' }, tree: { type: 'string' } }
  })
  if (values['key-file'] === undefined) throw new ConfigError('release needs --key-file (make one with `seed-one release-key <file>`)')
  const privateKey = await loadReleasePrivateKey(values['key-file'])
  const checkout = CHECKOUT_ROOT
  const tree = values.tree === undefined ? checkout : path.resolve(values.tree)
  if (values.tree === undefined) {
    await ensureUiBuilt(say)
    // build-time code (esbuild): loaded by this command only, which a box never runs
    const { buildServer } = await import('./build-server.ts')
    say(`building the server into ${(await buildServer(checkout)).outDir}`)
  }
  say(`packing ${tree}`)
  const { checkoutEntries, makeRelease } = await import('./make-release.ts')
  const made = await makeRelease({
    tree,
    entries: values.tree === undefined ? await checkoutEntries(checkout) : await readdir(tree),
    privateKey,
    outDir: path.resolve(values.out ?? 'dist')
  })
  say(`seed-one ${made.manifest.version}: ${made.tarballFile} (${made.manifest.size} bytes, sha256 ${made.manifest.sha256})`)
  say(`signed manifest: ${made.manifestFile}`)
}

async function releaseKey(args: string[]): Promise<void> {
  const { positionals } = parseArgs({ args, allowPositionals: true, strict: true, options: {} })
  const [file] = positionals
  if (file === undefined || positionals.length > 1) throw new ConfigError('release-key needs one file name for the private key')
  const { publicFile, keyId } = await createReleaseKey(path.resolve(file))
  say(
    `release key ${keyId}: private ${path.resolve(file)} (0600, keep it off the boxes), public ${publicFile} (ship it as /etc/seed-one/release-key.pub)`
  )
}

async function migrate(args: string[]): Promise<void> {
  const { values } = parseArgs({
    args,
    strict: true,
    options: { 'data-dir': { type: 'string' }, to: { type: 'string' }, check: { type: 'boolean' } }
  })
  const { dataDir } = resolvePortAndDataDir(values, { defaultPort: 8080, portFromEnv: true })
  const db = await openStateDb(dataDir)
  try {
    if (values.check === true) {
      const stored = await readDataVersion(db)
      say(JSON.stringify({ release: knownDataVersion(MIGRATIONS), data: stored.version, readableFrom: stored.readableFrom }))
      return
    }
    const onStep = (step: MigrationStep): void => say(`data version ${step.from} → ${step.to}: ${step.description}`)
    const result =
      values.to === undefined
        ? await migrateToLatest(db, MIGRATIONS, onStep)
        : await migrateTo(db, MIGRATIONS, wholeNumber('to', values.to), onStep)
    say(`${dataDir} is at data version ${result.version}`)
  } finally {
    await db.close()
  }
}

export const updateCommands: Record<string, (args: string[]) => Promise<void>> = { update, release, 'release-key': releaseKey, migrate }
