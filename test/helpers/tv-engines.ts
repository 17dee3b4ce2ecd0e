// The old headless Chromium builds that TVs in homes run, from npm packages the project installs as
// devDependencies (`chromium-68`, `chromium-88`: aliases of chrome-aws-lambda releases, whose tarballs
// carry a brotli-compressed headless shell), unpacked once into node_modules/.cache and launched with
// the DevTools protocol on a port of their own. Nothing is downloaded at run time.
import { spawn, type ChildProcess } from 'node:child_process'
import { access, mkdir, mkdtemp, readFile, rename, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import path from 'node:path'
import { fileURLToPath } from 'node:url'
import { brotliDecompressSync } from 'node:zlib'
import { x as untar } from 'tar'
import { buildUiIfChanged } from '../../server/ui/build-ui.ts'

export interface TvEngine {
  /** For test names and screenshot names: "chromium-68". */
  name: string
  /** The TVs that run this engine or one close to it. */
  shippedIn: string
  /** The npm alias holding the build, and the files in its bin/ folder. */
  packageName: string
  binary: string
  /** A tarball of shared libraries the binary is linked against (put on LD_LIBRARY_PATH), if any. */
  libraries?: string
}

export const TV_ENGINES: TvEngine[] = [
  {
    name: 'chromium-68',
    shippedIn: 'LG webOS 5 (2020), close to Tizen 5.5',
    packageName: 'chromium-68',
    binary: 'chromium-68.0.3419.0.br'
  },
  {
    name: 'chromium-88',
    shippedIn: 'just above webOS 22 (87) and Tizen 6.5 (85)',
    packageName: 'chromium-88',
    binary: 'chromium.br',
    libraries: 'aws.tar.br'
  }
]

const root = fileURLToPath(new URL('../../', import.meta.url))
const cacheRoot = path.join(root, 'node_modules/.cache/tv-engines')

async function exists(file: string): Promise<boolean> {
  return await access(file).then(
    () => true,
    () => false
  )
}

/** Writes `bytes` to `file` through a temporary name, so a concurrent run never sees half a file. */
async function writeAtomically(file: string, bytes: Buffer, mode: number): Promise<void> {
  const partial = `${file}.${process.pid}.partial`
  await writeFile(partial, bytes, { mode })
  await rename(partial, file)
}

/**
 * The engine's executable and library folder, unpacked from its package on first use into
 * node_modules/.cache/tv-engines/<package>@<version>/ and reused after that (about 1 s to unpack).
 */
export async function unpackEngine(engine: TvEngine): Promise<{ executable: string; libraryDir?: string }> {
  const packageDir = path.join(root, 'node_modules', engine.packageName)
  const { version } = JSON.parse(await readFile(path.join(packageDir, 'package.json'), 'utf8')) as { version: string }
  const dir = path.join(cacheRoot, `${engine.packageName}@${version}`)
  const executable = path.join(dir, 'chromium')
  const libraryDir = engine.libraries === undefined ? undefined : path.join(dir, 'lib')
  await mkdir(dir, { recursive: true })
  if (libraryDir !== undefined && !(await exists(libraryDir))) {
    const tarball = path.join(dir, 'libraries.tar')
    await writeAtomically(tarball, brotliDecompressSync(await readFile(path.join(packageDir, 'bin', engine.libraries as string))), 0o644)
    await untar({ file: tarball, cwd: dir, filter: entry => entry.startsWith('lib/') || entry.startsWith('./lib/') })
    await rm(tarball)
  }
  if (!(await exists(executable))) {
    await writeAtomically(executable, brotliDecompressSync(await readFile(path.join(packageDir, 'bin', engine.binary))), 0o755)
  }
  return { executable, libraryDir }
}

export interface RunningEngine {
  engine: TvEngine
  /** The browser's DevTools HTTP endpoint, e.g. http://127.0.0.1:40123 */
  devtoolsUrl: string
  /** Its version string, e.g. "HeadlessChrome/68.0.3419.0". */
  version: string
  close(): Promise<void>
}

/** Resolves with the DevTools URL the browser prints on stderr ("DevTools listening on ws://…"). */
function devtoolsUrlFrom(child: ChildProcess, name: string): Promise<string> {
  return new Promise((resolve, reject) => {
    let stderr = ''
    const timer = setTimeout(() => reject(new Error(`${name} did not open its DevTools port within 30 s; stderr:\n${stderr}`)), 30_000)
    child.stderr?.setEncoding('utf8')
    child.stderr?.on('data', (chunk: string) => {
      stderr += chunk
      const match = /DevTools listening on ws:\/\/([\d.]+:\d+)\//.exec(stderr)
      if (match) {
        clearTimeout(timer)
        child.stderr?.removeAllListeners('data')
        child.stderr?.resume() // keep draining, or the browser blocks on a full pipe
        resolve(`http://${match[1]}`)
      }
    })
    child.once('exit', code => {
      clearTimeout(timer)
      reject(new Error(`${name} exited with ${code} before opening its DevTools port; stderr:\n${stderr}`))
    })
  })
}

/**
 * Starts the engine headless with a fresh profile and the DevTools protocol on a free port. It runs
 * as root without a sandbox, single-process (its zygote does not start here otherwise), and without a GPU.
 * The pages it will load are built from the sources as they are, as launchChromium does.
 */
export async function launchEngine(engine: TvEngine): Promise<RunningEngine> {
  await buildUiIfChanged()
  const { executable, libraryDir } = await unpackEngine(engine)
  const profile = await mkdtemp(path.join(tmpdir(), `seed-one-${engine.name}-`))
  const child = spawn(
    executable,
    [
      '--headless',
      '--no-sandbox',
      '--disable-gpu',
      '--single-process',
      '--no-zygote',
      '--no-first-run',
      '--disable-background-networking',
      '--disable-component-update',
      '--autoplay-policy=no-user-gesture-required',
      '--mute-audio',
      '--hide-scrollbars', // as TV browsers and today's headless Chromium show none
      '--window-size=1920,1080',
      `--user-data-dir=${profile}`,
      '--remote-debugging-port=0',
      'about:blank'
    ],
    {
      stdio: ['ignore', 'ignore', 'pipe'],
      env:
        libraryDir === undefined
          ? process.env
          : { ...process.env, LD_LIBRARY_PATH: [libraryDir, process.env.LD_LIBRARY_PATH].filter(Boolean).join(':') }
    }
  )
  const exited = new Promise(resolve => child.once('exit', resolve))
  const close = async () => {
    if (child.exitCode === null && child.signalCode === null) {
      child.kill('SIGKILL') // a throwaway profile: nothing to shut down cleanly
      await exited
    }
    await rm(profile, { recursive: true, force: true })
  }
  try {
    const devtoolsUrl = await devtoolsUrlFrom(child, engine.name)
    const { Browser: version } = (await (await fetch(`${devtoolsUrl}/json/version`)).json()) as { Browser: string }
    return { engine, devtoolsUrl, version, close }
  } catch (err) {
    await close()
    throw err
  }
}
