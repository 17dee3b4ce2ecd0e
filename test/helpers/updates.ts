// For the update tests: releases that are small trees holding a runnable copy of this checkout's daemon,
// signed with a test release key; an install root laid out as a fresh install has it; `seed-one` runs.
import { execFile, spawn } from 'node:child_process'
import { createReadStream } from 'node:fs'
import { createServer } from 'node:http'
import { createHash, type KeyObject } from 'node:crypto'
import os from 'node:os'
import { chmod, cp, lstat, mkdir, mkdtemp, readFile, readdir, readlink, rm, symlink, writeFile } from 'node:fs/promises'
import path from 'node:path'
import { fileURLToPath } from 'node:url'
import { manifestName, signManifest, RELEASE_FORMAT } from '../../server/update/manifest.ts'
import { builtEntries, makeRelease, type MadeRelease } from '../../server/update/make-release.ts'
import { buildServer } from '../../server/update/build-server.ts'
import { buildUiIfChanged } from '../../server/ui/build-ui.ts'
import { buildFilmToken } from '../../contracts/compile.ts'
import { extractTarball, inspectTarball } from '../../server/update/release-archive.ts'
import { setPointer, slotDir } from '../../server/update/install-root.ts'
import { createReleaseKey, loadReleasePrivateKey } from '../../server/update/release-key.ts'
import { freePort } from './daemon-process.ts'
import { startTestDevnet } from './devnet.ts'
import type { DevnetInfo } from '../../server/devnet/devnet.ts'
import { getJson } from './http.ts'
import type { Test } from './in-process.ts'
import { waitFor } from './wait-for.ts'

const checkout = fileURLToPath(new URL('../../', import.meta.url))
const RUN_TIMEOUT_MS = 300_000

/** `seed-one <args>` run to its end by `cli` (default this checkout's), its exit code and stdout + stderr. */
export async function runSeedOne(
  args: string[],
  opts: { env?: NodeJS.ProcessEnv; cli?: string } = {}
): Promise<{ code: number; output: string }> {
  const cli = opts.cli ?? path.join(checkout, 'server', 'cli.ts')
  return await new Promise(resolve => {
    execFile(process.execPath, [cli, ...args], { env: { ...process.env, ...opts.env }, timeout: RUN_TIMEOUT_MS }, (err, stdout, stderr) => {
      resolve({ code: err === null ? 0 : typeof err.code === 'number' ? err.code : -1, output: stdout + stderr })
    })
  })
}

/**
 * A release of this checkout's code at `version`, some source files replaced by `patch` (path → new
 * text), built as `seed-one release` builds one (server/build). It carries no node_modules: a slot finds
 * the checkout's through `<root>/node_modules` (see installRoot).
 */
export async function makeTestRelease(opts: {
  dir: string
  version: string
  privateKey: KeyObject
  patch?: Record<string, string>
}): Promise<MadeRelease> {
  const tree = path.join(opts.dir, 'trees', opts.version)
  // a release ships the pages and the contract built (compiled here when the checkout has not yet)
  await buildUiIfChanged()
  await buildFilmToken()
  for (const entry of ['server', 'ui', 'contracts']) await cp(path.join(checkout, entry), path.join(tree, entry), { recursive: true })
  const packageJson = JSON.parse(await readFile(path.join(checkout, 'package.json'), 'utf8')) as Record<string, unknown>
  await writeFile(path.join(tree, 'package.json'), JSON.stringify({ ...packageJson, version: opts.version }, null, 2))
  for (const [file, text] of Object.entries(opts.patch ?? {})) await writeFile(path.join(tree, file), text)
  await buildServer(tree)
  return await makeRelease({
    tree,
    entries: await builtEntries(tree),
    privateKey: opts.privateKey,
    outDir: path.join(opts.dir, 'releases')
  })
}

/** A manifest signed for a tarball made by hand (for tarballs `seed-one release` would never make). */
export async function signTarball(tarballFile: string, version: string, privateKey: KeyObject): Promise<string> {
  const bytes = await readFile(tarballFile)
  const manifestFile = path.join(path.dirname(tarballFile), manifestName(version))
  const manifest = {
    format: RELEASE_FORMAT,
    version,
    file: path.basename(tarballFile),
    size: bytes.length,
    sha256: createHash('sha256').update(bytes).digest('hex'),
    created: new Date().toISOString()
  } as const
  await writeFile(manifestFile, signManifest(manifest, privateKey))
  return manifestFile
}

/**
 * An install root with `release` in slot a and `current` pointing at it, as a fresh install has it. Its
 * node_modules link lets the slots' code find the checkout's packages (a real release carries its own).
 */
export async function installRoot(root: string, release: MadeRelease): Promise<void> {
  await mkdir(slotDir(root, 'a'), { recursive: true })
  await symlink(path.join(checkout, 'node_modules'), path.join(root, 'node_modules'))
  await inspectTarball(release.tarballFile)
  await extractTarball(release.tarballFile, slotDir(root, 'a'))
  await setPointer(root, 'current', 'a')
}

/** Every path under `dir` with what it is: a folder and its mode, a file's mode and sha256, a link's target. */
export async function snapshot(dir: string): Promise<Record<string, string>> {
  const seen: Record<string, string> = {}
  const walk = async (folder: string): Promise<void> => {
    for (const name of (await readdir(folder)).sort()) {
      const file = path.join(folder, name)
      const key = path.relative(dir, file)
      const info = await lstat(file)
      const mode = (info.mode & 0o7777).toString(8)
      if (info.isSymbolicLink()) seen[key] = `link ${await readlink(file)}`
      else if (info.isDirectory()) {
        seen[key] = `dir ${mode}`
        await walk(file)
      } else
        seen[key] = `file ${mode} ${createHash('sha256')
          .update(await readFile(file))
          .digest('hex')}`
    }
  }
  await walk(dir)
  return seen
}

/** The stand-in for systemd (daemon-service.ts) as an executable in `dir`, for --service-command. */
export async function writeServiceCommand(dir: string): Promise<string> {
  const serviceCommand = path.join(dir, 'service.sh')
  await writeFile(
    serviceCommand,
    `#!/bin/sh\nexec '${process.execPath}' '${fileURLToPath(new URL('daemon-service.ts', import.meta.url))}' "$@"\n`
  )
  await chmod(serviceCommand, 0o755)
  return serviceCommand
}

export interface UpdateWorld {
  dir: string
  root: string
  dataDir: string
  privateKey: KeyObject
  /** The first release, installed in slot a and running. */
  installed: MadeRelease
  /** What every `seed-one` run of the test sees: the install root, data directory, chain, port, release key. */
  env: NodeJS.ProcessEnv
  /** The stand-in for systemd (daemon-service.ts), as an executable for --service-command. */
  serviceCommand: string
  service(action: 'start' | 'stop'): Promise<void>
  /** The version GET /api/status answers. */
  servingVersion(): Promise<string>
  /** `seed-one update <manifest>` with the stand-in service. */
  update(manifestFile: string): Promise<{ code: number; output: string }>
  /** A test release of `version` signed with the world's key. */
  release(version: string, patch?: Record<string, string>): Promise<MadeRelease>
}

/**
 * The environment of `seed-one update` and of the service stand-in it drives (test/helpers/daemon-service.ts):
 * the install root, the box's data directory and port on the devnet, the release key, the service's folder.
 */
export function updaterEnv(opts: {
  root: string
  dataDir: string
  port: number
  devnet: DevnetInfo
  keyFile: string
  serviceDir: string
}): NodeJS.ProcessEnv {
  return {
    SEED_ONE_INSTALL_ROOT: opts.root,
    SEED_ONE_DATA_DIR: opts.dataDir,
    SEED_ONE_PORT: String(opts.port),
    SEED_ONE_RPC_URL: opts.devnet.rpcUrl,
    SEED_ONE_CONTRACT: opts.devnet.contractAddress,
    SEED_ONE_DEPLOYMENT_BLOCK: String(opts.devnet.deploymentBlock),
    SEED_ONE_MDNS: 'off',
    SEED_ONE_LOG_LEVEL: 'warn',
    SEED_ONE_RELEASE_KEY: `${opts.keyFile}.pub`,
    TEST_SERVICE_DIR: opts.serviceDir
  }
}

/**
 * A devnet, a release key, an install root with release 1.0.0 in slot a, and its daemon running under
 * the stand-in service on a fixed port; all stopped when the test ends.
 */
export async function startUpdateWorld(t: Test): Promise<UpdateWorld> {
  // not t.testdir(): tap deletes that before it runs teardowns, and stopping the daemon needs the service's files
  const dir = await mkdtemp(path.join(os.tmpdir(), 'seed-one-update-test-'))
  t.teardown(async () => {
    try {
      await service('stop')
    } finally {
      await rm(dir, { recursive: true, force: true })
    }
  })
  const devnet = await startTestDevnet(t)
  const keyFile = path.join(dir, 'keys', 'release.key')
  await createReleaseKey(keyFile)
  const privateKey = await loadReleasePrivateKey(keyFile)
  const root = path.join(dir, 'root')
  const dataDir = path.join(dir, 'data')
  const serviceDir = path.join(dir, 'service')
  await mkdir(serviceDir)
  const port = await freePort()
  const env = updaterEnv({ root, dataDir, port, devnet, keyFile, serviceDir })
  const serviceCommand = await writeServiceCommand(dir)
  const service = async (action: 'start' | 'stop'): Promise<void> => {
    await new Promise<void>((resolve, reject) => {
      execFile(serviceCommand, [action], { env: { ...process.env, ...env } }, (err, stdout, stderr) =>
        err === null ? resolve() : reject(new Error(`service ${action} failed: ${err.message} ${stdout}${stderr}`))
      )
    })
  }
  const release = async (version: string, patch?: Record<string, string>): Promise<MadeRelease> =>
    await makeTestRelease({ dir, version, privateKey, patch })

  const installed = await release('1.0.0')
  await installRoot(root, installed)
  await service('start')
  return {
    dir,
    root,
    dataDir,
    privateKey,
    installed,
    env,
    serviceCommand,
    service,
    servingVersion: async () => (await getJson<{ version: string }>(`http://127.0.0.1:${port}/api/status`)).version,
    update: async manifestFile => await runSeedOne(['update', manifestFile, '--service-command', serviceCommand], { env }),
    release
  }
}

/**
 * Starts `seed-one update <manifest>` and kills it with SIGKILL once the release on trial is up and the
 * updater waits on it: the moment between the switch and the commit.
 */
export async function killUpdateMidTrial(world: UpdateWorld, manifestFile: string): Promise<string> {
  const serviceDir = world.env.TEST_SERVICE_DIR as string
  const updater = spawn(
    process.execPath,
    [path.join(checkout, 'server', 'cli.ts'), 'update', manifestFile, '--service-command', world.serviceCommand],
    {
      env: { ...process.env, ...world.env, TEST_SERVICE_HOLD: '1' }
    }
  )
  let output = ''
  updater.stdout.on('data', chunk => (output += chunk))
  updater.stderr.on('data', chunk => (output += chunk))
  const exited = new Promise(resolve => updater.once('exit', resolve))
  const holding = path.join(serviceDir, 'holding')
  const holder = await waitFor(
    'the release on trial to be up',
    async () => Number(await readFile(holding, 'utf8').catch(() => '')) || undefined,
    {
      timeoutMs: 180_000,
      lastSeen: () => output
    }
  )
  updater.kill('SIGKILL')
  process.kill(holder, 'SIGKILL')
  await exited
  await rm(holding)
  return output
}

/** Serves the files of `folder` (by base name only) over HTTP on 127.0.0.1, as a release server would; closed when the test ends. */
export async function serveFolder(t: Test, folder: string): Promise<string> {
  const server = createServer((req, res) => {
    const file = path.join(folder, path.basename(decodeURIComponent(new URL(req.url ?? '/', 'http://x').pathname)))
    createReadStream(file)
      .on('error', () => res.writeHead(404).end())
      .on('open', () => res.writeHead(200))
      .pipe(res)
  })
  await new Promise<void>(resolve => server.listen(0, '127.0.0.1', resolve))
  t.teardown(() => new Promise(resolve => server.close(resolve)))
  return `http://127.0.0.1:${(server.address() as { port: number }).port}`
}
