// Installs a signed release (`seed-one release`: a manifest and its tarball) as the first release of an
// install root, for the image build (firmware-image/build-overlay.sh): the same checks `seed-one update`
// makes, with its own code (server/update/), then slot a and the `current` and `committed` pointers.
//   node scripts/install-release.ts <manifest.json> <release-key.pub> <install root>
import { mkdir, mkdtemp, readdir, rm } from 'node:fs/promises'
import os from 'node:os'
import path from 'node:path'
import { downloadTarball, readManifestText, releaseSource } from '../server/update/fetch-release.ts'
import { setPointer, slotDir } from '../server/update/install-root.ts'
import { verifyManifest } from '../server/update/manifest.ts'
import { extractTarball, inspectTarball } from '../server/update/release-archive.ts'
import { loadReleasePublicKey } from '../server/update/release-key.ts'

const [manifestPath, keyPath, root] = process.argv.slice(2)
if (manifestPath === undefined || keyPath === undefined || root === undefined) {
  process.stderr.write('usage: node scripts/install-release.ts <manifest.json> <release-key.pub> <install root>\n')
  process.exit(2)
}

try {
  const source = releaseSource(path.resolve(manifestPath))
  const manifest = verifyManifest(await readManifestText(source.name), await loadReleasePublicKey(keyPath))
  const temporary = await mkdtemp(path.join(os.tmpdir(), 'seed-one-install-'))
  try {
    const tarball = path.join(temporary, manifest.file)
    await downloadTarball(source.tarball(manifest.file), manifest, tarball)
    const { packageVersion } = await inspectTarball(tarball)
    if (packageVersion !== manifest.version)
      throw new Error(`the tarball holds ${packageVersion}, the signed manifest says ${manifest.version}`)
    const slot = slotDir(root, 'a')
    await mkdir(slot, { recursive: true, mode: 0o755 })
    if ((await readdir(slot)).length > 0)
      throw new Error(`${slot} is not empty: this installs a first release only (later ones: seed-one update)`)
    await extractTarball(tarball, slot)
  } finally {
    await rm(temporary, { recursive: true, force: true })
  }
  await setPointer(root, 'current', 'a')
  await setPointer(root, 'committed', 'a')
  process.stdout.write(`seed-one ${manifest.version} installed in ${slotDir(root, 'a')} (signature and sha256 checked)\n`)
} catch (err) {
  process.stderr.write(`install-release: ${(err as Error).message}\n`)
  process.exit(1)
}
