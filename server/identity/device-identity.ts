import { createPrivateKey, generateKeyPairSync, type KeyObject } from 'node:crypto'
import path from 'node:path'
import { generateKeyPair, privateKeyFromProtobuf, privateKeyToProtobuf } from '@libp2p/crypto/keys'
import { peerIdFromPrivateKey } from '@libp2p/peer-id'
import type { PrivateKey } from '@libp2p/interface'
import { x25519PublicKeyToRaw } from '../keys/wrap.ts'
import { loadOrCreateSecret } from './secret-file.ts'

/**
 * The box's own keys (DESIGN decision 4), made on first boot: an Ed25519 key that is its libp2p
 * peer id and signs its requests, and an X25519 key that film keys are wrapped to.
 */
export interface DeviceIdentity {
  /** The libp2p peer id, in its usual string form: the device id everywhere. */
  deviceId: string
  privateKey: PrivateKey
  x25519PublicKey: Uint8Array
  x25519PrivateKey: KeyObject
  sign(bytes: Uint8Array): Promise<Uint8Array>
}

export async function loadOrCreateDeviceIdentity(dataDir: string): Promise<DeviceIdentity> {
  const keysDir = path.join(dataDir, 'keys')
  const ed25519 = await loadOrCreateSecret(path.join(keysDir, 'device-ed25519.key'), async () =>
    privateKeyToProtobuf(await generateKeyPair('Ed25519'))
  )
  const x25519 = await loadOrCreateSecret(path.join(keysDir, 'device-x25519.key'), () =>
    generateKeyPairSync('x25519').privateKey.export({ type: 'pkcs8', format: 'der' })
  )
  const privateKey = privateKeyFromProtobuf(ed25519)
  const x25519PrivateKey = createPrivateKey({ key: Buffer.from(x25519), format: 'der', type: 'pkcs8' })
  return {
    deviceId: peerIdFromPrivateKey(privateKey).toString(),
    privateKey,
    x25519PublicKey: x25519PublicKeyToRaw(x25519PrivateKey),
    x25519PrivateKey,
    sign: async bytes => await privateKey.sign(bytes)
  }
}
