// The sub-commands of this folder: update, release, release-key, migrate (wired into server/cli.ts).
import { readdir } from 'node:fs/promises'
import path from 'node:path'
import { parseFlags, type CommandDefinition } from '../lib/command-flags.ts'
import { CHECKOUT_ROOT } from '../lib/checkout-root.ts'
import { ConfigError, reachableHost, resolvePortAndDataDir } from '../config.ts'
import { openStateDb } from '../storage/state-db.ts'
import { ensureUiBuilt } from '../ui/ensure-ui-built.ts'
import { MIGRATIONS } from './migration-list.ts'
import { knownDataVersion, migrateTo, migrateToLatest, readDataVersion, type MigrationStep } from './migrations.ts'
import { createReleaseKey, loadReleasePrivateKey, loadReleasePublicKey } from './release-key.ts'
import { commandService, systemdService } from './service-control.ts'
import type { UpdaterOptions } from './updater.ts'

const updateFlags = {
  root: {
    type: 'string',
    value: 'DIR',
    description: 'the install root with the A/B slots',
    default: '/opt/seed-one',
    env: 'SEED_ONE_INSTALL_ROOT'
  },
  'data-dir': {
    type: 'string',
    value: 'DIR',
    description: "the box's data directory",
    default: '/var/lib/seed-one',
    env: 'SEED_ONE_DATA_DIR'
  },
  'release-key': {
    type: 'string',
    value: 'FILE',
    description: 'the public key releases are signed with',
    default: '/etc/seed-one/release-key.pub',
    env: 'SEED_ONE_RELEASE_KEY'
  },
  'status-url': {
    type: 'string',
    value: 'URL',
    description: 'the health check of the new version',
    default: 'http://<SEED_ONE_HOST>:<SEED_ONE_PORT>/api/status'
  },
  'deadline-seconds': { type: 'string', value: 'N', description: 'how long the new version has to answer healthy', default: '120' },
  unit: { type: 'string', value: 'NAME', description: 'the systemd unit restarted', default: 'seed-one' },
  'service-command': { type: 'string', value: 'CMD', description: 'a program that stops and starts the service, instead of systemd' },
  'allow-downgrade': { type: 'boolean', description: 'install an older version than the running one' },
  recover: { type: 'boolean', description: 'resolve an update a crash interrupted' },
  'no-service': { type: 'boolean', description: 'with --recover: restart no service' },
  status: { type: 'boolean', description: 'print the slots and stop' }
} as const

const releaseFlags = {
  'key-file': { type: 'string', value: 'FILE', description: 'the private release key (`seed-one release-key`); required' },
  out: { type: 'string', value: 'DIR', description: 'where the tarball and manifest go', default: 'dist' },
  tree: { type: 'string', value: 'DIR', description: 'a prepared tree to pack', default: 'this checkout and its production packages' }
} as const

const migrateFlags = {
  'data-dir': { type: 'string', value: 'DIR', description: 'the data directory', default: './.data', env: 'SEED_ONE_DATA_DIR' },
  to: { type: 'string', value: 'N', description: 'migrate to this data version (down for a rollback)', default: "this release's" },
  check: { type: 'boolean', description: "print this release's and the data's versions and stop" }
} as const

export const updateDefinitions: CommandDefinition[] = [
  {
    name: 'update',
    summary: 'install a signed release into the inactive slot, switch to it, health-check it, commit or roll back',
    operands: '[manifest path or URL]',
    flags: updateFlags,
    notes: ['The manifest defaults to SEED_ONE_UPDATE_URL. See server/update/RELEASE.md.']
  },
  { name: 'release', summary: 'make a signed release of this checkout', flags: releaseFlags },
  {
    name: 'release-key',
    summary: 'make a release key pair: <file> (private, 0600) and <file>.pub',
    operands: '<file>',
    flags: {}
  },
  { name: 'migrate', summary: 'the data directory migrations: pending ups (what a start runs), --to N for a rollback', flags: migrateFlags }
]

const say = (line: string): void => {
  process.stdout.write(`${line}\n`)
}

function wholeNumber(flag: string, value: string, min = 0): number {
  if (!/^\d+$/.test(value) || Number(value) < min) throw new ConfigError(`--${flag} must be a whole number from ${min}, got "${value}"`)
  return Number(value)
}

async function update(args: string[]): Promise<void> {
  const { values, positionals } = parseFlags(updateFlags, args, true)
  // loaded by these commands only: the daemon (`start`, every box's long-lived process) need not hold tar
  const { installStatus, recoverUpdate, updateRelease } = await import('./updater.ts')
  const env = process.env
  const root = path.resolve(values.root ?? env[updateFlags.root.env] ?? '/opt/seed-one')
  if (values.status === true) {
    say(JSON.stringify(await installStatus(root), null, 2))
    return
  }
  const { port } = resolvePortAndDataDir({}, { defaultPort: 8080, portFromEnv: true })
  const options: UpdaterOptions = {
    root,
    dataDir: path.resolve(values['data-dir'] ?? env[updateFlags['data-dir'].env] ?? '/var/lib/seed-one'),
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
  const publicKey = await loadReleasePublicKey(
    values['release-key'] ?? env[updateFlags['release-key'].env] ?? '/etc/seed-one/release-key.pub'
  )
  await updateRelease(location, { ...options, publicKey, service, allowDowngrade: values['allow-downgrade'] })
}

async function release(args: string[]): Promise<void> {
  const { values } = parseFlags(releaseFlags, args)
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
  const { positionals } = parseFlags({}, args, true)
  const [file] = positionals
  if (file === undefined || positionals.length > 1) throw new ConfigError('release-key needs one file name for the private key')
  const { publicFile, keyId } = await createReleaseKey(path.resolve(file))
  say(
    `release key ${keyId}: private ${path.resolve(file)} (0600, keep it off the boxes), public ${publicFile} (ship it as /etc/seed-one/release-key.pub)`
  )
}

async function migrate(args: string[]): Promise<void> {
  const { values } = parseFlags(migrateFlags, args)
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
