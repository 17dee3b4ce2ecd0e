import t from 'tap'
import { chmod, readdir, readFile, stat, writeFile } from 'node:fs/promises'
import path from 'node:path'
import { peerIdFromString } from '@libp2p/peer-id'
import { loadOrCreateDeviceIdentity } from '../server/identity/device-identity.ts'
import { signPayload, verifyDeviceSignature } from '../server/identity/device-signature.ts'
import { loadOrCreateSecret, readSecretFile, writeSecretFile } from '../server/identity/secret-file.ts'
import { unwrapKey, wrapKey } from '../server/sealing/wrap.ts'
import { testDir } from './helpers/in-process.ts'

async function modeOf(file: string): Promise<number> {
  return (await stat(file)).mode & 0o777
}

t.test('device keys are made on first use, kept 0600 in a 0700 folder, and the same after a reload', async t => {
  const dataDir = testDir(t, 'data')
  const identity = await loadOrCreateDeviceIdentity(dataDir)
  const keysDir = path.join(dataDir, 'keys')
  t.equal(await modeOf(keysDir), 0o700, 'the keys folder is 0700')
  const files = (await readdir(keysDir)).sort()
  t.same(files, ['device-ed25519.key', 'device-x25519.key'], 'one file per key, nothing else')
  for (const file of files) t.equal(await modeOf(path.join(keysDir, file)), 0o600, `${file} is 0600`)

  const peerId = peerIdFromString(identity.deviceId)
  t.equal(peerId.type, 'Ed25519', 'the device id is an Ed25519 libp2p peer id')
  t.equal(identity.x25519PublicKey.length, 32)
  const probe = new Uint8Array(32).fill(7)
  t.same(
    Buffer.from(unwrapKey(wrapKey(probe, identity.x25519PublicKey, 'probe'), identity.x25519PrivateKey, 'probe')),
    Buffer.from(probe),
    'the X25519 public key belongs to the private key'
  )

  const reloaded = await loadOrCreateDeviceIdentity(dataDir)
  t.equal(reloaded.deviceId, identity.deviceId, 'same device id after a reload')
  t.same(Buffer.from(reloaded.x25519PublicKey), Buffer.from(identity.x25519PublicKey), 'same key-wrapping key after a reload')

  const another = await loadOrCreateDeviceIdentity(testDir(t, 'another'))
  t.not(another.deviceId, identity.deviceId, 'another data folder is another device')
})

t.test('device signatures', async t => {
  const device = await loadOrCreateDeviceIdentity(testDir(t, 'device'))
  const other = await loadOrCreateDeviceIdentity(testDir(t, 'other'))
  const signed = await signPayload(device, { purpose: 'test', amount: 1 })
  t.same(JSON.parse(signed.payload), { purpose: 'test', amount: 1 })
  t.equal(await verifyDeviceSignature(device.deviceId, signed), true, 'an untouched payload verifies')
  t.equal(
    await verifyDeviceSignature(device.deviceId, { ...signed, payload: signed.payload.replace('"amount":1', '"amount":2') }),
    false,
    'a tampered payload does not'
  )
  t.equal(await verifyDeviceSignature(other.deviceId, signed), false, "nor does it verify as another device's")
  t.equal(
    await verifyDeviceSignature(device.deviceId, await signPayload(other, { purpose: 'test', amount: 1 })),
    false,
    "another device's signature is not this device's"
  )
  t.equal(
    await verifyDeviceSignature(device.deviceId, { ...signed, signature: 'AAAA' }),
    false,
    'a signature of the wrong length does not verify'
  )
  t.equal(await verifyDeviceSignature('not-a-peer-id', signed), false, 'nor does a device id that is not a peer id')
})

t.test('secret files', async t => {
  const dir = testDir(t, 'secrets')
  const file = path.join(dir, 'nested', 'a.key')

  await writeSecretFile(file, new Uint8Array([1, 2, 3]))
  t.equal(await modeOf(file), 0o600)
  t.equal(await modeOf(path.dirname(file)), 0o700, 'the folders it makes are 0700')
  t.same(await readdir(path.dirname(file)), ['a.key'], 'no temporary file is left behind')

  await writeSecretFile(file, new Uint8Array([4, 5]))
  t.same([...(await readFile(file))], [4, 5], 'a rewrite replaces the secret')
  t.same(await readdir(path.dirname(file)), ['a.key'], 'and leaves no temporary file either')

  // A crash between writing and renaming leaves the temporary file; a service restarted with the
  // same pid (pid 1 in a container, say) must still be able to write the secret.
  await writeFile(`${file}.${process.pid}.tmp`, 'half a key')
  await writeSecretFile(file, new Uint8Array([6]))
  t.same([...(await readFile(file))], [6], 'a stale temporary file does not block a write')
  t.same(await readdir(path.dirname(file)), ['a.key'], 'and is gone afterwards')

  await chmod(file, 0o644)
  t.same([...((await readSecretFile(file)) ?? [])], [6])
  t.equal(await modeOf(file), 0o600, 'reading tightens a mode loosened by hand')
  t.equal(await readSecretFile(path.join(dir, 'missing.key')), undefined, 'a missing secret reads as undefined')

  let made = 0
  const create = (): Uint8Array => {
    made++
    return new Uint8Array([9, 9])
  }
  const first = await loadOrCreateSecret(path.join(dir, 'b.key'), create)
  const second = await loadOrCreateSecret(path.join(dir, 'b.key'), create)
  t.same([...second], [...first], 'the secret is created once and then loaded')
  t.equal(made, 1)
})
