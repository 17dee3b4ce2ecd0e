// Key release as an attacker tries it (issue 11, findings 1 and 4): another creator on the same
// contract re-registers a film's metadata to take its key; a box holds an authorisation that never
// ends, or one its owner revoked; a copy of a data directory taken before unpairing.
import t from 'tap'
import { Contract, parseEther, type JsonRpcProvider, type Wallet } from 'ethers'
import { loadFilmTokenArtifact } from '../server/chain/artifacts.ts'
import { filmIdFromReceipt } from '../server/chain/film-token.ts'
import { loadOrCreateDeviceIdentity, type DeviceIdentity } from '../server/identity/device-identity.ts'
import { requestFilmKey, type KeyRequestError } from '../server/keys/key-request.ts'
import { filmKeyContext, type FilmKeyResponse, type OwnerAuthorisation } from '../server/wire/custodian-protocol.ts'
import { unwrapKey, KeyWrapError } from '../server/sealing/wrap.ts'
import { buildPairingMessage } from '../server/pairing/owner-authorisation.ts'
import { buildRevocationMessage } from '../server/pairing/device-revocation.ts'
import { REVOCATIONS_PATH } from '../server/wire/custodian-protocol.ts'
import { createPairingStore } from '../server/pairing/pairing-store.ts'
import { pairAsOwner } from '../server/demo.ts'
import { addBytes } from '../server/storage/content.ts'
import { section } from '../server/storage/state-db.ts'
import { parseCid } from '../server/library/film-metadata.ts'
import { buyFilm, registerFilm } from './helpers/films.ts'
import { devnetWallet, startTestDevnet } from './helpers/devnet.ts'
import { getJson, postJson } from './helpers/http.ts'
import { CookieJar, signInAsOwner } from './helpers/owner-session.ts'
import { call, messageFor, sendSignature, session } from './helpers/pairing-client.ts'
import { daemonConfig, startTestDaemon, testDir } from './helpers/in-process.ts'
import { waitFor } from './helpers/wait-for.ts'

const DAY_MS = 24 * 60 * 60 * 1000
const { abi } = await loadFilmTokenArtifact()

const devnet = await startTestDevnet(t)
const wallet = (key: string): Wallet => devnetWallet(t, devnet, key)
const creator = wallet(devnet.accounts.creator.privateKey)
const owner = wallet(devnet.accounts.owner.privateKey)
// the attacker: a collector the admin also made a creator, on the same contract as the victim
const attacker = wallet(devnet.accounts.otherCollector.privateKey)
const admin = new Contract(devnet.contractAddress, abi, wallet(devnet.accounts.deployer.privateKey))
await (await admin.getFunction('grantRole')(await admin.getFunction('CREATOR_ROLE')(), attacker.address)).wait()

const custodian = await startTestDaemon(t, daemonConfig(devnet, testDir(t, 'custodian'), ['custodian']))
const victim = await registerFilm({ custodian, creator, contractAddress: devnet.contractAddress })

/** The owner's authorisation of `device`, as a box's pairing makes it (times as given). */
async function authorise(
  signer: Wallet,
  device: DeviceIdentity,
  times: { issuedAt?: Date; expiresAt?: Date } = {}
): Promise<OwnerAuthorisation> {
  const message = buildPairingMessage({
    domain: 'seedone.local',
    owner: signer.address,
    chainId: devnet.chainId,
    nonce: 'pairingcode1',
    deviceId: device.deviceId,
    x25519PublicKey: device.x25519PublicKey,
    ...times
  })
  return { message, signature: await signer.signMessage(message) }
}

/** The custodian's answer to `device` asking for `tokenId` under `authorisation`: the status, and the code and message or key. */
async function ask(
  device: DeviceIdentity,
  authorisation: OwnerAuthorisation,
  tokenId: string,
  custodianUrl = custodian.url
): Promise<{ status: number | undefined; code?: string; message: string; answer?: FilmKeyResponse }> {
  const request = { custodianUrl, identity: device, authorisation, chainId: devnet.chainId, contract: devnet.contractAddress, tokenId }
  return await requestFilmKey(request).then(
    answer => ({ status: 200, message: `released ${JSON.stringify(answer)}`, answer }),
    (err: KeyRequestError) => ({ status: err.custodianStatus, code: err.custodianCode, message: err.message })
  )
}

/** `registerFilm` on the contract as `signer`, straight (no custodian involved): the new token id. */
async function registerAs(signer: Wallet, metadataUri: string, priceWei: bigint): Promise<string> {
  const token = new Contract(devnet.contractAddress, abi, signer)
  const receipt = await (await token.getFunction('registerFilm')(metadataUri, priceWei, 1000, [], signer.address, 0)).wait()
  return String(filmIdFromReceipt(token, receipt))
}

t.test("another creator who registers a film's metadata again gets no key from its custodian, at any price", async t => {
  const attackerBox = await loadOrCreateDeviceIdentity(testDir(t, 'attacker-box'))
  const authorisation = await authorise(attacker, attackerBox)
  // the same content in metadata JSON of the attacker's own: another URI, so a contract check of URIs would not see it
  const rewrapped = await addBytes(
    custodian.helia,
    new TextEncoder().encode(
      JSON.stringify({
        ...JSON.parse(new TextDecoder().decode(await custodian.helia.content.readBytes(parseCid(victim.metadataCid)))),
        title: 'Mine now'
      })
    )
  )
  const attempts = [
    { name: "the film's own metadata URI at price 0", uri: `ipfs://${victim.metadataCid}`, price: 0n },
    { name: "the film's own metadata URI at a price", uri: `ipfs://${victim.metadataCid}`, price: parseEther('0.01') },
    { name: 'the content re-wrapped in new metadata', uri: `ipfs://${rewrapped}`, price: 0n }
  ]
  for (const attempt of attempts) {
    const tokenId = await registerAs(attacker, attempt.uri, attempt.price)
    await buyFilm(attacker, devnet.contractAddress, tokenId, attempt.price)
    const { status, code, message } = await ask(attackerBox, authorisation, tokenId)
    t.equal(status, 403, `${attempt.name}: ${message}`)
    t.equal(code, 'SEED_FILM_NOT_PUBLISHED_HERE', `${attempt.name}: refused as a film this custodian did not publish`)
  }
})

t.test('a custodian serves only the creators it is configured with', async t => {
  const config = { ...daemonConfig(devnet, testDir(t, 'custodian'), ['custodian']), servedCreators: [attacker.address] }
  const other = await startTestDaemon(t, config)
  const film = await registerFilm({ custodian: other, creator, contractAddress: devnet.contractAddress })
  await buyFilm(attacker, devnet.contractAddress, film.tokenId)
  const box = await loadOrCreateDeviceIdentity(testDir(t, 'box'))
  const { status, code, message } = await ask(box, await authorise(attacker, box), film.tokenId, other.url)
  t.equal(status, 403, message)
  t.equal(code, 'SEED_CREATOR_NOT_SERVED')
})

t.test('the custodian refuses authorisations that never end, have ended, or claim too long a life', async t => {
  await buyFilm(owner, devnet.contractAddress, victim.tokenId)
  const box = await loadOrCreateDeviceIdentity(testDir(t, 'box'))
  const current = await authorise(owner, box)
  t.equal((await ask(box, current, victim.tokenId)).status, 200, 'a current authorisation gets the key')

  // what older releases kept: the same message without an expiry, signed two months ago
  const older = buildPairingMessage({
    domain: 'seedone.local',
    owner: owner.address,
    chainId: devnet.chainId,
    nonce: 'pairingcode2',
    deviceId: box.deviceId,
    x25519PublicKey: box.x25519PublicKey,
    issuedAt: new Date(Date.now() - 60 * DAY_MS)
  }).replace(/\nExpiration Time: [^\n]*/, '')
  const attempts = [
    {
      name: 'no expiry (kept by an older release)',
      authorisation: { message: older, signature: await owner.signMessage(older) },
      reason: /no expiry/
    },
    {
      name: 'a life of a year',
      authorisation: await authorise(owner, box, { expiresAt: new Date(Date.now() + 365 * DAY_MS) }),
      reason: /longer than 30 days/
    },
    {
      name: 'expired yesterday',
      authorisation: await authorise(owner, box, {
        issuedAt: new Date(Date.now() - 31 * DAY_MS),
        expiresAt: new Date(Date.now() - DAY_MS)
      }),
      reason: /expired at .*renew the pairing/
    }
  ]
  for (const attempt of attempts) {
    const { status, code, message } = await ask(box, attempt.authorisation, victim.tokenId)
    t.equal(status, 401, `${attempt.name}: ${message}`)
    t.equal(code, 'SEED_AUTHORISATION_REFUSED', `${attempt.name}: the authorisation is refused`)
    t.match(message, attempt.reason, `${attempt.name}: the reason says to renew`)
  }
})

t.test("the custodian honours the owner's revocation of a device", async t => {
  const box = await loadOrCreateDeviceIdentity(testDir(t, 'box'))
  const before = await authorise(owner, box, { issuedAt: new Date(Date.now() - 60_000) })
  t.equal((await ask(box, before, victim.tokenId)).status, 200, 'the device gets keys before the revocation')

  const revocation = buildRevocationMessage({
    domain: 'seedone.local',
    owner: owner.address,
    chainId: devnet.chainId,
    deviceId: box.deviceId
  })
  const forged = await postJson(`${custodian.url}${REVOCATIONS_PATH}`, {
    message: revocation,
    signature: await attacker.signMessage(revocation)
  })
  t.equal(forged.status, 400, `a revocation signed by another wallet: ${forged.body}`)
  t.equal((await ask(box, before, victim.tokenId)).status, 200, 'a forged revocation changes nothing')

  const revoked = await postJson(`${custodian.url}${REVOCATIONS_PATH}`, {
    message: revocation,
    signature: await owner.signMessage(revocation)
  })
  t.equal(revoked.status, 200, revoked.body)
  const refused = await ask(box, before, victim.tokenId)
  t.equal(refused.status, 401, `the revoked device under its old authorisation: ${refused.message}`)
  t.equal(refused.code, 'SEED_DEVICE_REVOKED')

  const after = await authorise(owner, box, { issuedAt: new Date(Date.now() + 1000) })
  t.equal((await ask(box, after, victim.tokenId)).status, 200, 'the owner pairing it anew lets it in again')
})

t.test('a paired box', async t => {
  const box = await startTestDaemon(t, daemonConfig(devnet, testDir(t, 'box'), ['player'], custodian.multiaddrs()))
  await pairAsOwner(box.url, owner)
  const kept = async (): Promise<OwnerAuthorisation> => {
    const pairing = await createPairingStore(box.db).authorisation()
    if (pairing === undefined) throw new Error('the box keeps no pairing')
    return { message: pairing.message, signature: pairing.signature }
  }
  const films = section(box.db, 'films')
  await waitFor('the box to know the film and its custodian', async () => (await films.get(victim.tokenId))?.metadata !== undefined)
  const oldAuthorisation = await kept()
  const copied = { ...box.identity } // what a copy of the data directory holds
  t.equal((await ask(copied, oldAuthorisation, victim.tokenId)).status, 200, 'before: the box gets keys')

  const tv = new CookieJar() // the owner's TV (pairing attempts are limited to 10 a minute: the session is reused)
  await t.test("renews its authorisation when the owner signs its TV's renewal code", async t => {
    await signInAsOwner(box.url, owner, tv)
    const before = (await call(tv, `${box.url}/api/pairing`)).json
    t.match(before, { signedIn: true, renewalDue: false }, 'a fresh pairing is not due for renewal')
    const lifetime = Date.parse(before.authorisationExpiresAt) - Date.now()
    t.ok(
      lifetime > 29 * DAY_MS && lifetime <= 30 * DAY_MS,
      `the TV is told the authorisation ends in 30 days (${before.authorisationExpiresAt})`
    )
    const renewing = (await call(tv, `${box.url}/api/pairing?renew=1`)).json
    t.match(renewing, { signedIn: true, code: /^[A-Z0-9]{8}$/ }, 'the signed-in TV gets a code to renew with')
    const keptBefore = await kept()
    const signed = await sendSignature(box.url, await messageFor(box.url, owner.address, renewing.code), owner)
    t.equal(signed.status, 200, JSON.stringify(signed.json))
    t.not((await kept()).message, keptBefore.message, 'the box keeps the new authorisation')
    const after = (await call(tv, `${box.url}/api/pairing?renew=1`)).json
    t.ok(Date.parse(after.authorisationExpiresAt) >= Date.parse(before.authorisationExpiresAt), 'and the TV sees its end date')
  })

  await t.test("relays the phone's revocation of it to the custodians of the owner's films", async t => {
    // the phone signs a revocation of this box and the box relays it to the custodians of the owner's films
    const query = new URLSearchParams({ address: owner.address, device: box.identity.deviceId })
    const { message } = await getJson<{ message: string }>(`${box.url}/api/pairing/revocation-message?${query}`)
    t.match(message, box.identity.deviceId, 'the message names the device')
    const notOwner = await postJson(`${box.url}/api/pairing/revocations`, { message, signature: await attacker.signMessage(message) })
    t.equal(notOwner.status, 400, `signed by another wallet: ${notOwner.body}`)
    const relayed = await postJson(`${box.url}/api/pairing/revocations`, { message, signature: await owner.signMessage(message) })
    t.equal(relayed.status, 200, relayed.body)
    t.same(relayed.json.deliveries, [{ custodianUrl: custodian.url, delivered: true }], 'delivered to the film custodian')
    const refused = await ask(copied, oldAuthorisation, victim.tokenId)
    t.equal(refused.status, 401, `the revoked box: ${refused.message}`)
  })

  await t.test('gets a new key-wrapping key when unpaired: a copy of its data directory opens no key released later', async t => {
    const { csrfToken } = await session(box.url, tv)
    const unpaired = await tv.fetch(`${box.url}/api/pairing`, { method: 'DELETE', headers: { 'x-csrf-token': csrfToken } })
    t.equal(unpaired.status, 200)
    t.not(
      Buffer.from(box.identity.x25519PublicKey).toString('hex'),
      Buffer.from(copied.x25519PublicKey).toString('hex'),
      'unpairing made a new key-wrapping key'
    )
    await pairAsOwner(box.url, owner)
    const newAuthorisation = await kept()
    const { status, answer } = await ask(box.identity, newAuthorisation, victim.tokenId)
    t.equal(status, 200, 'the box, paired anew, gets keys')
    const context = filmKeyContext(
      { chainId: devnet.chainId, contract: devnet.contractAddress, tokenId: victim.tokenId, contentCid: victim.contentCid.toString() },
      box.identity.deviceId
    )
    t.same(Buffer.from(unwrapKey(answer!.wrappedKey, box.identity.x25519PrivateKey, context)), Buffer.from(victim.contentKey))
    t.throws(() => unwrapKey(answer!.wrappedKey, copied.x25519PrivateKey, context), KeyWrapError, "the copy's old key opens nothing")
    const copyAsks = await ask(copied, newAuthorisation, victim.tokenId)
    t.equal(copyAsks.status, 401, `the copy showing the new authorisation with its old key: ${copyAsks.message}`)
  })

  await t.test('asks no custodian under an authorisation that never ends, and says to renew', async t => {
    const pairings = createPairingStore(box.db)
    const current = await pairings.authorisation()
    const older = current!.message.replace(/\nExpiration Time: [^\n]*/, '')
    await pairings.save({ ...current!, message: older, signature: await owner.signMessage(older) })
    const film = await registerFilm({ custodian, creator, contractAddress: devnet.contractAddress })
    await buyFilm(owner, devnet.contractAddress, film.tokenId)
    const error = await waitFor(
      'the new film to fail for want of a current authorisation',
      async () => (await films.get(film.tokenId))?.error
    )
    t.match(error, /^the owner's authorisation of this device has no expiry .*renew the pairing/, `the box refuses it itself: ${error}`)

    await signInAsOwner(box.url, owner) // the owner signs a code again: the renewal
    await waitFor('the film to be ready once the pairing is renewed', async () => (await films.get(film.tokenId))?.state === 'ready', {
      timeoutMs: 30_000
    })
    t.pass('the film is ready without waiting for its retry')
  })
})

t.test('a purchase counts at the configured confirmations, and keys are released at a bounded rate', async t => {
  const limits = { perDevice: { burst: 3, perHour: 1 }, perOwner: { burst: 5, perHour: 1 } }
  const base = daemonConfig(devnet, testDir(t, 'custodian'), ['custodian'])
  const strict = await startTestDaemon(t, { ...base, chain: { ...base.chain, confirmations: 2 }, keyReleaseLimits: limits })
  const film = await registerFilm({ custodian: strict, creator, contractAddress: devnet.contractAddress })
  await buyFilm(owner, devnet.contractAddress, film.tokenId)
  const [first, second] = await Promise.all([1, 2].map(async i => await loadOrCreateDeviceIdentity(testDir(t, `box-${i}`))))
  const asks = async (device: DeviceIdentity): ReturnType<typeof ask> =>
    await ask(device, await authorise(owner, device), film.tokenId, strict.url)

  const unconfirmed = await asks(first)
  t.equal(unconfirmed.status, 403, `right after the purchase: ${unconfirmed.message}`)
  t.equal(unconfirmed.code, 'SEED_NOT_A_HOLDER')
  t.match(unconfirmed.message, /holds no token of film \d+ with 2 confirmations/, 'the refusal names the confirmations it waits for')
  for (let block = 0; block < 2; block++) await (owner.provider as JsonRpcProvider).send('evm_mine', [])
  t.equal((await asks(first)).status, 200, 'two blocks later the purchase counts')

  t.equal((await asks(first)).status, 200, 'the third request of the device')
  const deviceLimited = await asks(first)
  t.equal(deviceLimited.status, 429, `the fourth: ${deviceLimited.message}`)
  t.equal(deviceLimited.code, 'SEED_RATE_LIMITED')
  t.match(deviceLimited.message, /too many film keys asked for this device/, "the limit named is the device's")
  t.equal((await asks(second)).status, 200, "another of the owner's devices has its own allowance")
  t.equal((await asks(second)).status, 200, 'up to the allowance of the owner')
  const ownerLimited = await asks(second)
  t.equal(ownerLimited.status, 429, `the owner's sixth: ${ownerLimited.message}`)
  t.equal(ownerLimited.code, 'SEED_RATE_LIMITED')
  t.match(ownerLimited.message, /too many film keys asked for the devices of/, "the limit named is the owner's")
})
