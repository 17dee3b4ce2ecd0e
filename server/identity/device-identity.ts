import { createPrivateKey, generateKeyPairSync, type KeyObject } from 'node:crypto'
import path from 'node:path'
import { generateKeyPair, privateKeyFromProtobuf, privateKeyToProtobuf } from '@libp2p/crypto/keys'
import { peerIdFromPrivateKey } from '@libp2p/peer-id'
import type { PrivateKey } from '@libp2p/interface'
import { x25519PublicKeyToRaw } from '../sealing/wrap.ts'
import { loadOrCreateSecret, writeSecretFile } from './secret-file.ts'

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
  /**
   * Replaces the X25519 key (unpairing): keys wrapped to the old one, and authorisations naming it,
   * are of no use to a copy of the data directory taken before. The Ed25519 key stays: it is the peer
   * id the network knows the box by (monitor reports, replica assignment), and authorises nothing alone.
   */
  rotateKeyWrappingKey(): Promise<void>
}

const newX25519Key = (): Uint8Array => generateKeyPairSync('x25519').privateKey.export({ type: 'pkcs8', format: 'der' })

function x25519Keys(der: Uint8Array): { x25519PrivateKey: KeyObject; x25519PublicKey: Uint8Array } {
  const x25519PrivateKey = createPrivateKey({ key: Buffer.from(der), format: 'der', type: 'pkcs8' })
  return { x25519PrivateKey, x25519PublicKey: x25519PublicKeyToRaw(x25519PrivateKey) }
}

export async function loadOrCreateDeviceIdentity(dataDir: string): Promise<DeviceIdentity> {
  const keysDir = path.join(dataDir, 'keys')
  const ed25519 = await loadOrCreateSecret(path.join(keysDir, 'device-ed25519.key'), async () =>
    privateKeyToProtobuf(await generateKeyPair('Ed25519'))
  )
  const x25519File = path.join(keysDir, 'device-x25519.key')
  const privateKey = privateKeyFromProtobuf(ed25519)
  const identity: DeviceIdentity = {
    deviceId: peerIdFromPrivateKey(privateKey).toString(),
    privateKey,
    ...x25519Keys(await loadOrCreateSecret(x25519File, newX25519Key)),
    sign: async bytes => await privateKey.sign(bytes),
    async rotateKeyWrappingKey() {
      const fresh = newX25519Key()
      await writeSecretFile(x25519File, fresh)
      Object.assign(identity, x25519Keys(fresh))
    }
  }
  return identity
}
