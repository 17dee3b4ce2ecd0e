import { peerIdFromString } from '@libp2p/peer-id'
import type { DeviceIdentity } from './device-identity.ts'
import type { SignedPayload } from '../wire/signed-payload.ts'

export async function signPayload(identity: Pick<DeviceIdentity, 'sign'>, value: object): Promise<SignedPayload> {
  const payload = JSON.stringify(value)
  const signature = await identity.sign(new TextEncoder().encode(payload))
  return { payload, signature: Buffer.from(signature).toString('base64url') }
}

/** True when `signed` was signed by the Ed25519 key inside the peer id `deviceId`. */
export async function verifyDeviceSignature(deviceId: string, signed: SignedPayload): Promise<boolean> {
  let publicKey
  try {
    publicKey = peerIdFromString(deviceId).publicKey
  } catch {
    return false
  }
  if (publicKey === undefined) return false
  try {
    return await publicKey.verify(new TextEncoder().encode(signed.payload), Buffer.from(signed.signature, 'base64url'))
  } catch {
    return false // a signature of the wrong length or form throws: it does not verify either
  }
}
