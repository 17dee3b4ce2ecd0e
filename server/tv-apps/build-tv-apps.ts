// `npm run tv-apps`: the apps a TV's home screen shows, each opening the box's UI (ui/tv-apps/ finds the box):
// a webOS hosted app packaged as an .ipk by @webos-tools/cli's ares-package, and the Tizen widget's files,
// ready for Tizen Studio to sign (a Samsung TV installs only widgets signed with a Samsung certificate
// issued for its device id, which needs Samsung's servers and the owner's account: nothing here can do it).
// Run: npm run tv-apps -- [--monitor-url URL] [--out DIR]
import { execFile } from 'node:child_process'
import { cp, mkdir, readFile, readdir, rm, writeFile } from 'node:fs/promises'
import { createRequire } from 'node:module'
import path from 'node:path'
import { fileURLToPath } from 'node:url'
import { parseArgs, promisify } from 'node:util'
import { iconPng } from './icon-png.ts'
import { TIZEN_ICONS, WEBOS_APP_ID, WEBOS_ICONS, appVersion, tizenConfigXml, webosAppInfo } from './manifests.ts'

const checkoutRoot = fileURLToPath(new URL('../../', import.meta.url))
const PAGE_DIR = path.join(checkoutRoot, 'ui', 'tv-apps')
export const TV_APPS_DIR = path.join(checkoutRoot, 'dist', 'tv-apps')
/** The names a home router's DNS gives a DHCP client called `seedone`: bare, then with the usual suffixes. */
export const DHCP_NAMES = ['http://seedone/', 'http://seedone.lan/', 'http://seedone.home/']

export interface TvApps {
  /** The webOS package, to install with `ares-install` on a TV in developer mode. */
  ipk: string
  /** The webOS app's folder, as packaged. */
  webosDir: string
  /** The Tizen widget's folder, to sign and package with Tizen Studio (`tizen package -t wgt -s <profile>`). */
  tizenDir: string
}

const run = promisify(execFile)

/** What the finder page is told at build time; a URL, checked, so the file stays a plain script. */
function finderConfig(monitorUrl: string | undefined): string {
  let monitor = ''
  if (monitorUrl) {
    const url = URL.canParse(monitorUrl) ? new URL(monitorUrl) : null
    if (!url || !/^https?:$/.test(url.protocol)) throw new Error(`--monitor-url must be an http(s) URL, got "${monitorUrl}"`)
    monitor = url.href.replace(/\/+$/, '')
  }
  return `window.SEED_ONE_TV_CONFIG = ${JSON.stringify({ names: DHCP_NAMES, monitorUrl: monitor })}\n`
}

/** The finder page, its config and the icons into `dir`. */
async function writeApp(dir: string, config: string, icons: Record<string, readonly [number, number]>): Promise<void> {
  await mkdir(dir, { recursive: true })
  await cp(PAGE_DIR, dir, { recursive: true })
  await writeFile(path.join(dir, 'config.js'), config)
  for (const [file, [width, height]] of Object.entries(icons)) await writeFile(path.join(dir, file), iconPng(width, height))
}

async function packageVersion(): Promise<string> {
  const { version } = JSON.parse(await readFile(path.join(checkoutRoot, 'package.json'), 'utf8')) as { version: string }
  return appVersion(version)
}

export async function buildTvApps(options: { outDir?: string; monitorUrl?: string } = {}): Promise<TvApps> {
  const outDir = options.outDir ?? TV_APPS_DIR
  const version = await packageVersion()
  const config = finderConfig(options.monitorUrl)
  const webosDir = path.join(outDir, 'webos')
  const tizenDir = path.join(outDir, 'tizen')
  // only what an earlier build made: --out may name a folder that holds other things
  await mkdir(outDir, { recursive: true })
  const earlierPackages = (await readdir(outDir)).filter(file => file.startsWith(`${WEBOS_APP_ID}_`) && file.endsWith('_all.ipk'))
  for (const made of [webosDir, tizenDir, ...earlierPackages.map(file => path.join(outDir, file))])
    await rm(made, { recursive: true, force: true })

  await writeApp(webosDir, config, WEBOS_ICONS)
  await writeFile(path.join(webosDir, 'appinfo.json'), `${JSON.stringify(webosAppInfo(version), null, 2)}\n`)
  const aresPackage = createRequire(import.meta.url).resolve('@webos-tools/cli/bin/ares-package.js')
  // --no-minify: the package carries the very script the tests ran, not a re-minified one
  await run(process.execPath, [aresPackage, '--no-minify', '--outdir', outDir, webosDir])
  const ipk = path.join(outDir, `${WEBOS_APP_ID}_${version}_all.ipk`)
  if (!(await readdir(outDir)).includes(path.basename(ipk))) throw new Error(`ares-package made no ${ipk}`)

  await writeApp(tizenDir, config, TIZEN_ICONS)
  await writeFile(path.join(tizenDir, 'config.xml'), tizenConfigXml(version))
  return { ipk, webosDir, tizenDir }
}

if (import.meta.main) {
  const { values } = parseArgs({ options: { 'monitor-url': { type: 'string' }, out: { type: 'string' } }, strict: true })
  const apps = await buildTvApps({ outDir: values.out && path.resolve(values.out), monitorUrl: values['monitor-url'] })
  console.log(`webOS: ${path.relative(process.cwd(), apps.ipk)} (install: ares-install -d <tv> ${path.basename(apps.ipk)})`)
  console.log(
    `Tizen: ${path.relative(process.cwd(), apps.tizenDir)}/ (sign and package: tizen package -t wgt -s <profile> -- <that folder>)`
  )
  if (!values['monitor-url']) console.log('no --monitor-url: the apps try the DHCP names and a typed address, not the discovery page')
}
