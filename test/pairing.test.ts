import t from 'tap'
import { SiweMessage } from 'siwe'
import type { Wallet } from 'ethers'
import type { Daemon } from '../server/daemon.ts'
import { loadOrCreateDeviceIdentity } from '../server/identity/device-identity.ts'
import { devnetWallet, startTestDevnet } from './helpers/devnet.ts'
import { getJson, postJson } from './helpers/http.ts'
import { daemonConfig, startTestDaemon, testDir, type Test } from './helpers/in-process.ts'

// 8 characters from an alphabet without 0/O and 1/I/L (DESIGN decision 4: read off a TV).
const CODE_PATTERN = /^[A-HJKMNP-Z2-9]{8}$/

const devnet = await startTestDevnet(t)
const owner = devnetWallet(t, devnet, devnet.accounts.owner.privateKey)
const otherCollector = devnetWallet(t, devnet, devnet.accounts.otherCollector.privateKey)

async function pairingCode(box: Daemon): Promise<string> {
  const state = await getJson(`${box.url}/api/pairing`)
  if (state.paired !== false) throw new Error(`expected an unpaired box, got ${JSON.stringify(state)}`)
  return state.code
}

async function pairingMessage(box: Daemon, address: string, code: string): Promise<string> {
  const query = new URLSearchParams({ address, code })
  return (await getJson(`${box.url}/api/pairing/message?${query}`)).message
}

async function postPairing(box: Daemon, message: string, signer: Wallet, headers: Record<string, string> = {}) {
  return await postJson(`${box.url}/api/pairing`, { message, signature: await signer.signMessage(message) }, headers)
}

async function assertUnpaired(t: Test, box: Daemon): Promise<void> {
  const status = await getJson(`${box.url}/api/status`)
  t.equal(status.paired, false, 'the box is still unpaired')
  t.equal(status.owner, null)
}

/** A live-looking code that is not `code`. */
function anotherCode(code: string): string {
  return (code[0] === 'A' ? 'B' : 'A') + code.slice(1)
}

t.test('the owner pairs the box once with a signed EIP-4361 message, and it stays paired across a restart', async t => {
  const dataDir = testDir(t, 'box')
  const box = await startTestDaemon(t, daemonConfig(devnet, dataDir, ['player']))

  const state = await getJson(`${box.url}/api/pairing`)
  t.equal(state.paired, false)
  t.match(state.code, CODE_PATTERN, 'an 8-character code')
  const expiresIn = Date.parse(state.expiresAt) - Date.now()
  t.ok(expiresIn > 60_000 && expiresIn <= 10 * 60_000, `the code expires in minutes (${Math.round(expiresIn / 1000)} s)`)

  const message = await pairingMessage(box, owner.address, state.code)
  const parsed = new SiweMessage(message)
  t.equal(parsed.address, owner.address)
  t.equal(parsed.nonce, state.code, 'the code is the nonce')
  t.equal(parsed.chainId, devnet.chainId)
  t.equal(parsed.domain, new URL(box.url).host, 'the domain is the box as the signer reached it')
  t.ok(parsed.resources?.includes(`urn:seed-one:device:${box.identity.deviceId}`), 'names the device id')
  t.ok(
    parsed.resources?.includes(`urn:seed-one:x25519:${Buffer.from(box.identity.x25519PublicKey).toString('base64url')}`),
    'names the key-wrapping key'
  )

  const paired = await postPairing(box, message, owner)
  t.equal(paired.status, 201, paired.body)
  t.same(paired.json, { paired: true, owner: owner.address })
  const status = await getJson(`${box.url}/api/status`)
  t.equal(status.paired, true)
  t.equal(status.owner, owner.address)
  t.same(await getJson(`${box.url}/api/pairing`), { paired: true, owner: owner.address }, 'no code is shown once paired')

  const again = await postPairing(box, message.replace(owner.address, otherCollector.address), otherCollector)
  t.equal(again.status, 409, 'a paired box refuses a second pairing')
  t.equal((await getJson(`${box.url}/api/status`)).owner, owner.address, 'the first owner stays')

  const deviceId = box.identity.deviceId
  await box.close()
  const restarted = await startTestDaemon(t, daemonConfig(devnet, dataDir, ['player']))
  const after = await getJson(`${restarted.url}/api/status`)
  t.equal(after.deviceId, deviceId, 'same device id after a restart')
  t.equal(after.paired, true)
  t.equal(after.owner, owner.address, 'still paired to the same owner')
})

t.test('refused pairings leave the box unpaired', async t => {
  const box = await startTestDaemon(t, daemonConfig(devnet, testDir(t, 'box'), ['player']))
  const code = await pairingCode(box)
  const message = await pairingMessage(box, owner.address, code)

  await t.test('a wrong code', async t => {
    const wrong = await pairingMessage(box, owner.address, anotherCode(code))
    const response = await postPairing(box, wrong, owner)
    t.equal(response.status, 403, response.body)
    await assertUnpaired(t, box)
  })

  await t.test('a signature by another wallet than the message names', async t => {
    const response = await postPairing(box, message, otherCollector)
    t.equal(response.status, 401, response.body)
    await assertUnpaired(t, box)
  })

  await t.test('a message naming another device', async t => {
    const other = await loadOrCreateDeviceIdentity(testDir(t, 'other-device'))
    const forOther = message.replace(box.identity.deviceId, other.deviceId)
    t.not(forOther, message)
    const response = await postPairing(box, forOther, owner)
    t.equal(response.status, 401, response.body)
    t.match(response.json.message, /another device/)
    await assertUnpaired(t, box)
  })

  await t.test('a message for another chain', async t => {
    const forMainnet = message.replace(`\nChain ID: ${devnet.chainId}\n`, '\nChain ID: 1\n')
    t.not(forMainnet, message)
    const response = await postPairing(box, forMainnet, owner)
    t.equal(response.status, 401, response.body)
    t.match(response.json.message, /chain 1/)
    await assertUnpaired(t, box)
  })

  await t.test('a message signed for another host than the one it is sent to', async t => {
    const response = await postPairing(box, message, owner, { host: 'seedone.local' })
    t.equal(response.status, 401, response.body)
    t.match(response.json.message, /domain/i)
    await assertUnpaired(t, box)
  })

  await t.test('a malformed body', async t => {
    const wellFormed = { message, signature: '0x00' }
    for (const body of [
      { message },
      { message, signature: 'not hex' },
      { message: { text: message }, signature: '0x00' },
      'not json',
      { ...wellFormed, extra: true },
      { message: 12345678, signature: '0x00' }
    ]) {
      const response = await postJson(`${box.url}/api/pairing`, body)
      t.equal(response.status, 400, `${JSON.stringify(body).slice(0, 40)}…: ${response.body}`)
    }
    await assertUnpaired(t, box)
  })

  await t.test('an oversized body', async t => {
    const response = await postJson(`${box.url}/api/pairing`, { message: 'x'.repeat(100 * 1024), signature: '0x00' })
    t.equal(response.status, 413, response.body)
    await assertUnpaired(t, box)
  })

  await t.test('after the refusals, a fresh code and a right signature still pair', async t => {
    const fresh = await pairingCode(box)
    const response = await postPairing(box, await pairingMessage(box, owner.address, fresh), owner)
    t.equal(response.status, 201, response.body)
  })
})

t.test('five wrong codes burn the code on the TV', async t => {
  const box = await startTestDaemon(t, daemonConfig(devnet, testDir(t, 'box'), ['player']))
  const code = await pairingCode(box)
  t.equal(await pairingCode(box), code, 'the code holds still while nobody guesses')
  const wrong = await pairingMessage(box, owner.address, anotherCode(code))
  for (let attempt = 1; attempt <= 5; attempt++) {
    t.equal((await postPairing(box, wrong, owner)).status, 403, `wrong code ${attempt}`)
  }
  const right = await postPairing(box, await pairingMessage(box, owner.address, code), owner)
  t.equal(right.status, 403, 'the burnt code no longer pairs, even when signed by the owner')
  await assertUnpaired(t, box)
  const next = await pairingCode(box)
  t.match(next, CODE_PATTERN)
  t.not(next, code, 'the TV shows a new code')
})
