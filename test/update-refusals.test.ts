// `seed-one update` refuses a release whose manifest or tarball is not exactly what the release key
// signed, or whose tarball would write outside its slot, and then nothing in the install root has changed.
import t from 'tap'
import { mkdir, readFile, readdir, symlink, truncate, writeFile, copyFile } from 'node:fs/promises'
import path from 'node:path'
import { create } from 'tar'
import { createReleaseKey, loadReleasePrivateKey } from '../server/update/release-key.ts'
import { manifestName, signManifest, tarballName, type SignedManifest } from '../server/update/manifest.ts'
import type { MadeRelease } from '../server/update/make-release.ts'
import type { Test } from './helpers/in-process.ts'
import { installRoot, makeTestRelease, runSeedOne, serveFolder, signTarball, snapshot } from './helpers/updates.ts'

const dir = t.testdir()
const keyFile = path.join(dir, 'keys', 'release.key')
await createReleaseKey(keyFile)
const privateKey = await loadReleasePrivateKey(keyFile)
await createReleaseKey(path.join(dir, 'keys', 'other.key'))
const otherKey = await loadReleasePrivateKey(path.join(dir, 'keys', 'other.key'))

const root = path.join(dir, 'root')
await installRoot(root, await makeTestRelease({ dir, version: '1.0.0', privateKey }))
const next = await makeTestRelease({ dir, version: '1.1.0', privateKey })
const untouched = await snapshot(root)
const tmp = path.join(dir, 'tmp')
await mkdir(tmp)

/** A copy of `release` in a folder of its own, to spoil. */
async function copyRelease(name: string, release: MadeRelease): Promise<{ manifestFile: string; tarballFile: string }> {
  const folder = path.join(dir, 'cases', name)
  await mkdir(folder, { recursive: true })
  const copy = {
    manifestFile: path.join(folder, path.basename(release.manifestFile)),
    tarballFile: path.join(folder, path.basename(release.tarballFile))
  }
  await copyFile(release.manifestFile, copy.manifestFile)
  await copyFile(release.tarballFile, copy.tarballFile)
  return copy
}

/** Runs the update of `manifestFile` and checks that it left the install root and the temporary folder as they were. */
async function update(t: Test, manifestFile: string): Promise<{ code: number; output: string }> {
  const run = await runSeedOne(
    // /bin/false as the service: had the update gone as far as stopping the daemon, it would fail loudly
    [
      'update',
      manifestFile,
      '--root',
      root,
      '--release-key',
      `${keyFile}.pub`,
      '--data-dir',
      path.join(dir, 'data'),
      '--service-command',
      '/bin/false'
    ],
    { env: { TMPDIR: tmp } }
  )
  t.same(await snapshot(root), untouched, 'slots, pointers and markers are byte-identical')
  t.same(await readdir(tmp), [], 'the temporary download is gone')
  return run
}

t.test('a manifest altered after it was signed is refused', async t => {
  const release = await copyRelease('altered', next)
  const signed = JSON.parse(await readFile(release.manifestFile, 'utf8')) as SignedManifest
  const payload = JSON.parse(signed.payload) as { size: number }
  payload.size += 1
  await writeFile(release.manifestFile, JSON.stringify({ ...signed, payload: JSON.stringify(payload) }))
  const run = await update(t, release.manifestFile)
  t.equal(run.code, 1)
  t.match(run.output, /seed-one update: bad signature: the manifest was altered or damaged after release key [0-9a-f]{16} signed it/)
})

t.test('a manifest signed by another key is refused', async t => {
  const release = await copyRelease('other-key', next)
  await writeFile(release.manifestFile, signManifest(next.manifest, otherKey))
  const run = await update(t, release.manifestFile)
  t.equal(run.code, 1)
  t.match(run.output, /bad signature: the manifest names release key [0-9a-f]{16}, this box trusts only [0-9a-f]{16}/)
})

t.test('a tarball with a wrong hash is refused', async t => {
  const release = await copyRelease('wrong-hash', next)
  const bytes = await readFile(release.tarballFile)
  bytes[bytes.length >> 1] ^= 0x01
  await writeFile(release.tarballFile, bytes)
  const run = await update(t, release.manifestFile)
  t.equal(run.code, 1)
  t.match(run.output, new RegExp(`${tarballName('1.1.0')} has sha256 [0-9a-f]{64}, the manifest says ${next.manifest.sha256}: refused`))
})

t.test('a truncated tarball is refused', async t => {
  const release = await copyRelease('truncated', next)
  await truncate(release.tarballFile, next.manifest.size >> 1)
  const run = await update(t, release.manifestFile)
  t.equal(run.code, 1)
  t.match(run.output, `is ${next.manifest.size >> 1} bytes, the manifest says ${next.manifest.size}: truncated or replaced, refused`)
})

t.test('a truncated tarball is refused when fetched over HTTP too', async t => {
  const release = await copyRelease('truncated-http', next)
  await truncate(release.tarballFile, 1000)
  const releaseServer = await serveFolder(t, path.dirname(release.manifestFile))
  const run = await update(t, `${releaseServer}/${path.basename(release.manifestFile)}`)
  t.equal(run.code, 1)
  t.match(
    run.output,
    `${releaseServer}/${tarballName('1.1.0')} is 1000 bytes, the manifest says ${next.manifest.size}: truncated or replaced, refused`
  )
})

t.test('a longer tarball is refused before it is read to its end', async t => {
  const release = await copyRelease('longer', next)
  await writeFile(release.tarballFile, Buffer.concat([await readFile(release.tarballFile), Buffer.alloc(1)]))
  const run = await update(t, release.manifestFile)
  t.equal(run.code, 1)
  t.match(run.output, `is larger than the ${next.manifest.size} bytes the manifest says: refused`)
})

/** A signed release of a hand-made tarball: `entries` of `tree`, packed as they are (absolute, `..`, links). */
async function handMadeRelease(
  name: string,
  version: string,
  entries: string[],
  prepare: (tree: string) => Promise<void>
): Promise<string> {
  const tree = path.join(dir, 'cases', name, 'tree')
  await mkdir(path.join(tree, 'server'), { recursive: true })
  await writeFile(path.join(tree, 'package.json'), JSON.stringify({ name: 'seed-one', version }))
  await prepare(tree)
  const tarballFile = path.join(dir, 'cases', name, tarballName(version))
  await create({ gzip: true, file: tarballFile, cwd: tree, preservePaths: true }, entries)
  return await signTarball(tarballFile, version, privateKey)
}

t.test('a signed tarball with an entry climbing out of the slot is refused', async t => {
  const manifestFile = await handMadeRelease('climbing', '1.2.0', ['package.json', '../escaped.txt'], async tree => {
    await writeFile(path.join(tree, '..', 'escaped.txt'), 'outside')
  })
  const run = await update(t, manifestFile)
  t.equal(run.code, 1)
  t.match(run.output, 'the tarball is refused: ../escaped.txt climbs out of the release folder')
})

t.test('a signed tarball with a link is refused', async t => {
  const manifestFile = await handMadeRelease('link', '1.2.0', ['package.json', 'server'], async tree => {
    await symlink('/etc', path.join(tree, 'server', 'etc'))
  })
  const run = await update(t, manifestFile)
  t.equal(run.code, 1)
  t.match(run.output, 'the tarball is refused: server/etc is a SymbolicLink: a release holds plain files and folders only')
})

t.test("a signed tarball whose package.json is not the manifest's version is refused", async t => {
  const manifestFile = await handMadeRelease('other-version', '1.2.0', ['package.json'], async tree => {
    await writeFile(path.join(tree, 'package.json'), JSON.stringify({ name: 'seed-one', version: '1.3.0' }))
  })
  const run = await update(t, manifestFile)
  t.equal(run.code, 1)
  t.match(run.output, "the tarball's package.json says version 1.3.0, the manifest 1.2.0: refused")
})

t.test('an older release is refused, the installed one is nothing to do', async t => {
  const older = await makeTestRelease({ dir, version: '0.9.0', privateKey })
  const run = await update(t, older.manifestFile)
  t.equal(run.code, 1)
  t.match(run.output, 'seed-one 0.9.0 is older than the installed 1.0.0: refused')

  // the same version, signed again (the first 1.0.0 release is in another folder)
  const again = path.join(dir, 'cases', 'same')
  await mkdir(again, { recursive: true })
  const sameManifest = await makeTestRelease({ dir: again, version: '1.0.0', privateKey })
  const same = await update(t, sameManifest.manifestFile)
  t.equal(same.code, 0, 'exit code 0', { output: same.output })
  t.match(same.output, 'seed-one 1.0.0 is already installed: nothing to do')
  t.equal(path.basename(sameManifest.manifestFile), manifestName('1.0.0'))
})
