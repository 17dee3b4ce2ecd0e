/** A JSON payload signed by a device's Ed25519 key. The exact payload text is what is signed. */
export interface SignedPayload {
  payload: string
  signature: string
}
