// The image's data disk (firmware-image/overlay/usr/lib/seed-one/data-disk.sh) and the consent asked on
// the TV (GET|POST /api/appliance/disk-consent), on real disks: loop devices over small image files,
// real ext4 and GPT, mounts made in a private mount namespace so that none outlives its command.
import t from 'tap'
import { execFile } from 'node:child_process'
import { createHash } from 'node:crypto'
import { mkdir, mkdtemp, readFile, readdir, rm, writeFile } from 'node:fs/promises'
import os from 'node:os'
import path from 'node:path'
import { fileURLToPath } from 'node:url'
import { promisify } from 'node:util'
import { daemonConfig, startTestDaemon } from './helpers/in-process.ts'
import { devnetWallet, startTestDevnet } from './helpers/devnet.ts'
import { CookieJar, signInAsOwner } from './helpers/owner-session.ts'

const run = promisify(execFile)
const SCRIPT = fileURLToPath(new URL('../firmware-image/overlay/usr/lib/seed-one/data-disk.sh', import.meta.url))

const root = await mkdtemp(path.join(os.tmpdir(), 'seed-one-disk-'))
t.teardown(() => rm(root, { recursive: true, force: true }))
const dataDir = path.join(root, 'data')
const stateDir = path.join(root, 'state')
const fstab = path.join(root, 'fstab')
await writeFile(fstab, '# the test machine\n')

/** A USB disk that someone used before: an ext4 file system holding a photo, on a loop device. */
async function usedDisk(name: string, label: string): Promise<{ image: string; device: string }> {
  const files = path.join(root, `${name}-files`)
  await mkdir(files)
  await writeFile(path.join(files, 'holiday.jpg'), 'not a real photo')
  const image = path.join(root, `${name}.img`)
  await run('truncate', ['-s', '48M', image])
  await run('mkfs.ext4', ['-q', '-L', label, '-d', files, image])
  const device = (await run('losetup', ['--partscan', '--find', '--show', image])).stdout.trim()
  t.teardown(() => run('losetup', ['--detach', device]))
  return { image, device }
}

/** data-disk.sh as root runs it, pointed at the test's folders and disk, in a mount namespace of its own. */
async function disk(device: string, command: string): Promise<string> {
  const env = {
    ...process.env,
    SEED_ONE_DATA_DIR: dataDir,
    SEED_ONE_DISK_STATE_DIR: stateDir,
    SEED_ONE_FSTAB: fstab,
    SEED_ONE_DATA_DISK: device
  }
  const { stdout } = await run('unshare', ['--mount', '--propagation', 'private', 'sh', '-c', command, SCRIPT], { env })
  return stdout
}

const state = async (): Promise<any> => JSON.parse(await readFile(path.join(stateDir, 'state.json'), 'utf8'))
const sha256 = async (file: string): Promise<string> =>
  createHash('sha256')
    .update(await readFile(file))
    .digest('hex')

const devnet = await startTestDevnet(t)
const box = await startTestDaemon(t, { ...daemonConfig(devnet, dataDir, ['player']), diskStateFile: path.join(stateDir, 'state.json') })
const consentUrl = `${box.url}/api/appliance/disk-consent`

async function csrf(jar: CookieJar): Promise<Record<string, string>> {
  const { csrfToken } = (await (await jar.fetch(`${box.url}/api/session`)).json()) as { csrfToken: string }
  return { 'content-type': 'application/json', 'x-csrf-token': csrfToken }
}

t.test('before the first boot found a disk, there is nothing to ask', async t => {
  const view = await (await fetch(consentUrl)).json()
  t.same(view, { state: 'none', disk: null, message: 'this Seed One has no data disk to prepare', updatedAt: null })
})

t.test('an unpaired box: a used disk is left alone until the TV says "keep"', async t => {
  const { image, device } = await usedDisk('vacation', 'VACATION')
  const before = await sha256(image)
  await disk(device, '"$0" prepare')
  t.equal((await state()).state, 'pending')

  const tv = new CookieJar()
  const view = await (await tv.fetch(consentUrl)).json()
  t.equal(view.state, 'pending', 'the TV may look before the box is paired')
  t.match(view.disk, { path: device, fstype: 'ext4', label: 'VACATION', partitions: [] })
  t.match(view.disk.id, /^[0-9a-f]{16}$/)

  const noToken = await tv.fetch(consentUrl, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{}' })
  t.equal(noToken.status, 403, 'no CSRF token: refused before the body is read')
  const headers = await csrf(tv)
  const otherDisk = await tv.fetch(consentUrl, {
    method: 'POST',
    headers,
    body: JSON.stringify({ decision: 'erase', diskId: '0123456789abcdef' })
  })
  t.equal(otherDisk.status, 409, 'a decision about another disk is refused')
  const badBody = await tv.fetch(consentUrl, {
    method: 'POST',
    headers,
    body: JSON.stringify({ decision: 'format', diskId: view.disk.id })
  })
  t.equal(badBody.status, 400)

  const keep = await tv.fetch(consentUrl, { method: 'POST', headers, body: JSON.stringify({ decision: 'keep', diskId: view.disk.id }) })
  t.equal(keep.status, 202)
  t.equal((await keep.json()).state, 'applying')
  t.equal((await (await tv.fetch(consentUrl)).json()).state, 'applying', 'until root has carried it out')

  await disk(device, '"$0" apply')
  const applied = await (await tv.fetch(consentUrl)).json()
  t.equal(applied.state, 'declined')
  t.equal(await sha256(image), before, 'not one byte of the disk changed')
  t.same(await readdir(path.join(dataDir, 'appliance')), [], 'the decision was consumed')
  const again = await tv.fetch(consentUrl, { method: 'POST', headers, body: JSON.stringify({ decision: 'erase', diskId: view.disk.id }) })
  t.equal(again.status, 409, 'nothing waits for consent any more')
})

t.test('a paired box: only the owner decides, and "erase" moves the data directory onto the disk', async t => {
  const owner = await signInAsOwner(box.url, devnetWallet(t, devnet, devnet.accounts.owner.privateKey))
  const { device } = await usedDisk('old', 'OLD-BACKUP')
  await disk(device, '"$0" prepare')

  const guest = new CookieJar()
  t.equal((await guest.fetch(consentUrl)).status, 401, 'a guest on the LAN sees nothing')
  const guestHeaders = await csrf(guest)
  const pending = await (await fetch(consentUrl, { headers: owner.headers })).json()
  t.equal(pending.state, 'pending')
  const byGuest = await guest.fetch(consentUrl, {
    method: 'POST',
    headers: guestHeaders,
    body: JSON.stringify({ decision: 'erase', diskId: pending.disk.id })
  })
  t.equal(byGuest.status, 401, 'nor decides')

  const erase = await fetch(consentUrl, {
    method: 'POST',
    headers: { ...owner.headers, 'content-type': 'application/json' },
    body: JSON.stringify({ decision: 'erase', diskId: pending.disk.id })
  })
  t.equal(erase.status, 202)
  const daemonFiles = (await readdir(dataDir)).sort()
  t.ok(daemonFiles.includes('keys'), `the daemon's data: ${daemonFiles.join(' ')}`)

  // as `systemctl stop seed-one` does before the script moves the directory
  await box.close()
  const seenInside = await disk(device, '"$0" apply && ls -A "$SEED_ONE_DATA_DIR" && findmnt -n -o SOURCE,FSTYPE "$SEED_ONE_DATA_DIR"')
  t.match(seenInside, new RegExp(`${device}p1 +ext4`), 'the disk is mounted at the data directory')
  for (const name of daemonFiles) t.match(seenInside, new RegExp(`^${name}$`, 'm'), `${name} moved onto the disk`)
  const ready = await state()
  t.equal(ready.state, 'ready')
  t.match(ready.disk.partitions, [{ fstype: 'ext4', label: 'seedone-data' }])
  t.match(await readFile(fstab, 'utf8'), new RegExp(`^UUID=${ready.disk.partitions[0].uuid} ${dataDir} ext4 \\S*nofail\\S* 0 2$`, 'm'))
  t.same(await readdir(dataDir), [], 'nothing stays behind on the SD card')

  const afterReboot = await disk(device, '"$0" prepare && ls -A "$SEED_ONE_DATA_DIR"')
  t.equal((await state()).message, 'a Seed One data disk: mounted', 'at the next first boot the disk is recognised, not erased')
  t.match(afterReboot, /^keys$/m)
})
