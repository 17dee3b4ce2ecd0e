// Release keys, `seed-one release`, the manifest's signature and format, and version order.
import t from 'tap'
import { createHash, sign } from 'node:crypto'
import { mkdir, readFile, stat, symlink, writeFile } from 'node:fs/promises'
import path from 'node:path'
import { loadReleasePrivateKey, loadReleasePublicKey, releaseKeyId } from '../server/update/release-key.ts'
import { verifyManifest, type SignedManifest } from '../server/update/manifest.ts'
import { inspectTarball, packTree } from '../server/update/release-archive.ts'
import { compareVersions } from '../server/update/version-order.ts'
import { runSeedOne } from './helpers/updates.ts'

const dir = t.testdir()
const keyFile = path.join(dir, 'keys', 'release.key')

t.test('seed-one release-key: a private key only its owner reads, a public key for the boxes, never overwritten', async t => {
  const made = await runSeedOne(['release-key', keyFile])
  t.equal(made.code, 0, 'exit code 0', { output: made.output })
  t.equal((await stat(keyFile)).mode & 0o777, 0o600)
  const privateKey = await loadReleasePrivateKey(keyFile)
  const publicKey = await loadReleasePublicKey(`${keyFile}.pub`)
  t.equal(releaseKeyId(privateKey), releaseKeyId(publicKey))
  t.match(made.output, `release key ${releaseKeyId(publicKey)}: private ${keyFile} (0600`)

  const again = await runSeedOne(['release-key', keyFile])
  t.equal(again.code, 1)
  t.match(again.output, `${keyFile} already exists: a release key is never overwritten`)
  await t.rejects(loadReleasePublicKey(keyFile), {
    message: `${keyFile} holds a private key: a box needs only the public half (the .pub file)`
  })
})

/** A tree as `seed-one release --tree` takes it, with npm's .bin links (left out) and a package. */
async function releaseTree(version: string): Promise<string> {
  const tree = path.join(dir, `tree-${version}`)
  await mkdir(path.join(tree, 'server'), { recursive: true })
  await mkdir(path.join(tree, 'node_modules', '.bin'), { recursive: true })
  await mkdir(path.join(tree, 'node_modules', 'left-pad'), { recursive: true })
  await writeFile(path.join(tree, 'package.json'), JSON.stringify({ name: 'seed-one', version }))
  await writeFile(path.join(tree, 'server', 'cli.ts'), "process.stdout.write('hello')\n")
  await writeFile(path.join(tree, 'node_modules', 'left-pad', 'index.js'), 'export default s => s\n')
  await symlink('../left-pad/index.js', path.join(tree, 'node_modules', '.bin', 'left-pad'))
  return tree
}

t.test('seed-one release: a tarball and a manifest signed over its size and sha256; a release is never made twice', async t => {
  const out = path.join(dir, 'out')
  const made = await runSeedOne(['release', '--key-file', keyFile, '--tree', await releaseTree('2.0.0'), '--out', out])
  t.equal(made.code, 0, 'exit code 0', { output: made.output })
  const manifest = verifyManifest(
    await readFile(path.join(out, 'seed-one-2.0.0.release.json'), 'utf8'),
    await loadReleasePublicKey(`${keyFile}.pub`)
  )
  const tarball = await readFile(path.join(out, manifest.file))
  t.match(manifest, { format: 'seed-one-release/1', version: '2.0.0', file: 'seed-one-2.0.0.tar.gz', size: tarball.length })
  t.equal(manifest.sha256, createHash('sha256').update(tarball).digest('hex'))
  t.ok(Date.now() - Date.parse(manifest.created) < 10 * 60_000, 'made just now')
  t.same(await inspectTarball(path.join(out, manifest.file)), { packageVersion: '2.0.0', entries: 6 }, 'the .bin link is left out')

  const again = await runSeedOne(['release', '--key-file', keyFile, '--tree', path.join(dir, 'tree-2.0.0'), '--out', out])
  t.equal(again.code, 1)
  t.match(again.output, 'seed-one-2.0.0.tar.gz already exists: a release is never overwritten')
})

t.test('a tree holding a link is not packed', async t => {
  const tree = await releaseTree('2.1.0')
  await symlink('/etc/passwd', path.join(tree, 'server', 'passwd'))
  await t.rejects(packTree(tree, ['package.json', 'server'], path.join(dir, 'linked.tar.gz')), {
    message: 'a release holds plain files and folders only; links found: server/passwd'
  })
})

t.test('a manifest is read only when its signature holds, then only when it is a release manifest', async t => {
  const privateKey = await loadReleasePrivateKey(keyFile)
  const publicKey = await loadReleasePublicKey(`${keyFile}.pub`)
  const signed = (payload: string): string =>
    JSON.stringify({
      payload,
      keyId: releaseKeyId(publicKey),
      signature: sign(null, Buffer.from(payload), privateKey).toString('base64url')
    } satisfies SignedManifest)
  const manifest = {
    format: 'seed-one-release/1',
    version: '2.0.0',
    file: 'seed-one-2.0.0.tar.gz',
    size: 10,
    sha256: 'a'.repeat(64),
    created: '2026-01-01T00:00:00.000Z'
  }
  t.same(verifyManifest(signed(JSON.stringify(manifest)), publicKey), manifest)
  t.throws(() => verifyManifest('{"payload"', publicKey), { message: 'the manifest is not JSON' })
  t.throws(() => verifyManifest(JSON.stringify({ payload: '{}', keyId: 'x', signature: 'y' }), publicKey), {
    message: /^the manifest is not a signed release manifest: /
  })
  t.throws(() => verifyManifest(signed(JSON.stringify({ ...manifest, postInstall: 'curl | sh' })), publicKey), {
    message: /^the signed payload is not a seed-one-release\/1 manifest: data must NOT have additional properties/
  })
  t.throws(() => verifyManifest(signed(JSON.stringify({ ...manifest, file: '../../etc/seed-one.tar.gz' })), publicKey), {
    message: /the signed payload is not a seed-one-release\/1 manifest: data\/file must match pattern/
  })
  t.throws(() => verifyManifest(signed(JSON.stringify({ ...manifest, version: 'latest' })), publicKey), {
    message: /data\/version must match pattern/
  })
})

t.test('versions follow SemVer precedence', async t => {
  const ordered = [
    '0.9.0',
    '1.0.0-alpha',
    '1.0.0-alpha.1',
    '1.0.0-alpha.beta',
    '1.0.0-beta.2',
    '1.0.0-beta.11',
    '1.0.0-rc.1',
    '1.0.0',
    '1.0.1',
    '1.10.0',
    '2.0.0'
  ]
  const order = ordered.map(a => ordered.map(b => compareVersions(a, b)))
  t.same(
    order,
    ordered.map((_, i) => ordered.map((_, j) => Math.sign(i - j))),
    'every pair in order'
  )
  t.throws(() => compareVersions('1.0', '1.0.0'), { message: 'not a release version: "1.0"' })
})
