// Signing a TV in through its pairing screen, driven over the DevTools protocol: what the screen shows,
// and the owner's phone signing that code (the test's own client, as the pairing page would).
import type { Wallet } from 'ethers'
import type { DevToolsTab } from './devtools.ts'
import { messageFor, sendSignature } from './pairing-client.ts'

/** The code the pairing screen shows, once its QR code image has loaded. */
export async function pairingCodeOnScreen(tv: DevToolsTab): Promise<string> {
  await tv.waitForFocus('.pairing-code')
  await tv.waitFor(
    'the QR code image',
    'document.querySelector(".pairing-qr img") && document.querySelector(".pairing-qr img").naturalWidth > 0'
  )
  return await tv.evaluate<string>(
    '[].map.call(document.querySelectorAll(".pairing-code-char"), function (c) { return c.textContent }).join("")'
  )
}

/** The owner signs `code` on a phone: it pairs an unpaired box, or signs a further TV in. */
export async function signCodeAsOwner(boxUrl: string, owner: Wallet, code: string): Promise<void> {
  const signed = await sendSignature(boxUrl, await messageFor(boxUrl, owner.address, code), owner)
  if (signed.status !== 200 && signed.status !== 201)
    throw new Error(`signing the TV's code: ${signed.status} ${JSON.stringify(signed.json)}`)
}
