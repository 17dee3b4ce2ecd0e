import t from 'tap'
import { readdir, readFile, stat } from 'node:fs/promises'
import path from 'node:path'
import { pairAsOwner } from '../server/demo.ts'
import { loadOrCreateDeviceIdentity, type DeviceIdentity } from '../server/identity/device-identity.ts'
import { signPayload } from '../server/identity/device-signature.ts'
import { openCustodyStore, CustodyError } from '../server/keys/custody-store.ts'
import { requestFilmKey } from '../server/keys/key-request.ts'
import { filmKeyContext, KEY_RELEASE_PATH, type FilmKeyRequest, type OwnerAuthorisation } from '../server/wire/custodian-protocol.ts'
import { unwrapKey, KeyWrapError } from '../server/sealing/wrap.ts'
import { createPairingStore } from '../server/pairing/pairing-store.ts'
import type { PublishedFilm } from '../server/keys/published-films.ts'
import { section } from '../server/storage/state-db.ts'
import { buyFilm, registerFilm } from './helpers/films.ts'
import { devnetWallet, startTestDevnet } from './helpers/devnet.ts'
import { postJson } from './helpers/http.ts'
import { daemonConfig, startTestDaemon, testDir } from './helpers/in-process.ts'

const devnet = await startTestDevnet(t)
const creator = devnetWallet(t, devnet, devnet.accounts.creator.privateKey)
const owner = devnetWallet(t, devnet, devnet.accounts.owner.privateKey)
const custodianDir = testDir(t, 'custodian')
const custodian = await startTestDaemon(t, daemonConfig(devnet, custodianDir, ['custodian']))
const box = await startTestDaemon(t, daemonConfig(devnet, testDir(t, 'box'), ['player'], custodian.multiaddrs()))
await pairAsOwner(box.url, owner)
const authorisation = await (async (): Promise<OwnerAuthorisation> => {
  const pairing = await createPairingStore(box.db).authorisation()
  if (pairing === undefined) throw new Error('the box did not keep its pairing')
  return { message: pairing.message, signature: pairing.signature }
})()
const contractAddress = devnet.contractAddress.toLowerCase()
const keyReleaseUrl = `${custodian.url}${KEY_RELEASE_PATH}`

const publisher = { custodian, creator, contractAddress: devnet.contractAddress }

function keyRequest(identity: DeviceIdentity, tokenId: string, overrides: Partial<FilmKeyRequest> = {}): FilmKeyRequest {
  return {
    purpose: 'seed-one/film-key-request/v1',
    chainId: devnet.chainId,
    contract: contractAddress,
    tokenId,
    deviceId: identity.deviceId,
    x25519PublicKey: Buffer.from(identity.x25519PublicKey).toString('base64url'),
    issuedAt: new Date().toISOString(),
    ...overrides
  }
}

/** Posts a key request signed by `signer` (the box unless given) with the box's owner authorisation. */
async function askForKey(request: FilmKeyRequest, signer: DeviceIdentity = box.identity) {
  return await postJson(keyReleaseUrl, { authorisation, request: await signPayload(signer, request) })
}

const owned = await registerFilm(publisher)
await buyFilm(owner, devnet.contractAddress, owned.tokenId)
const otherDevice = await loadOrCreateDeviceIdentity(testDir(t, 'other-device'))

t.test("the holder's paired device gets the film key, wrapped to that device alone", async t => {
  const { wrappedKey, owner: reportedOwner } = await requestFilmKey({
    custodianUrl: custodian.url,
    identity: box.identity,
    authorisation,
    chainId: devnet.chainId,
    contract: devnet.contractAddress,
    tokenId: owned.tokenId
  })
  t.equal(reportedOwner, owner.address)
  const film = {
    chainId: devnet.chainId,
    contract: devnet.contractAddress,
    tokenId: owned.tokenId,
    contentCid: owned.contentCid.toString()
  }
  const context = filmKeyContext(film, box.identity.deviceId)
  t.same(
    Buffer.from(unwrapKey(wrappedKey, box.identity.x25519PrivateKey, context)),
    Buffer.from(owned.contentKey),
    'unwraps to the content key'
  )
  t.not(wrappedKey.ciphertext, Buffer.from(owned.contentKey).toString('base64url'), 'the key does not travel in the clear')

  const otherContext = filmKeyContext(film, otherDevice.deviceId)
  t.throws(() => unwrapKey(wrappedKey, box.identity.x25519PrivateKey, otherContext), KeyWrapError, "not for another device's context")
  t.throws(() => unwrapKey(wrappedKey, otherDevice.x25519PrivateKey, context), KeyWrapError, "not with another device's key")
  const otherFilm = filmKeyContext({ ...film, tokenId: String(Number(owned.tokenId) + 1) }, box.identity.deviceId)
  t.throws(() => unwrapKey(wrappedKey, box.identity.x25519PrivateKey, otherFilm), KeyWrapError, "not as another film's key")
  const otherContent = filmKeyContext({ ...film, contentCid: 'bafkreiother' }, box.identity.deviceId)
  t.throws(() => unwrapKey(wrappedKey, box.identity.x25519PrivateKey, otherContent), KeyWrapError, 'not as the key of other content')
})

t.test('refusals', async t => {
  await t.test('the owner holds no token of the film', async t => {
    const unsold = await registerFilm(publisher)
    const response = await askForKey(keyRequest(box.identity, unsold.tokenId))
    t.equal(response.status, 403, response.body)
    t.equal(response.json.code, 'SEED_NOT_A_HOLDER')
  })

  await t.test('the film is not registered', async t => {
    const response = await askForKey(keyRequest(box.identity, '999999'))
    t.ok(response.status === 403 || response.status === 404, `${response.status}: ${response.body}`)
  })

  await t.test('a film this custodian did not publish', async t => {
    const elsewhere = await registerFilm({ ...publisher, keepKey: false })
    await buyFilm(owner, devnet.contractAddress, elsewhere.tokenId)
    const response = await askForKey(keyRequest(box.identity, elsewhere.tokenId))
    t.equal(response.status, 403, response.body)
    t.equal(response.json.code, 'SEED_FILM_NOT_PUBLISHED_HERE')
  })

  await t.test('the device signature does not verify', async t => {
    const signed = await signPayload(box.identity, keyRequest(box.identity, owned.tokenId))
    const altered = { ...signed, payload: signed.payload.replace(`"tokenId":"${owned.tokenId}"`, '"tokenId":"2"') }
    t.not(altered.payload, signed.payload)
    const attempts = {
      'payload altered after signing': altered,
      'signed by another device': await signPayload(otherDevice, keyRequest(box.identity, owned.tokenId)),
      'a signature of the wrong length': { ...signed, signature: 'AAAA' },
      'not a peer id': await signPayload(box.identity, keyRequest(box.identity, owned.tokenId, { deviceId: 'not-a-peer-id' }))
    }
    for (const [name, request] of Object.entries(attempts)) {
      const response = await postJson(keyReleaseUrl, { authorisation, request })
      t.equal(response.status, 401, `${name}: ${response.body}`)
    }
  })

  await t.test("the owner's authorisation names another device or key", async t => {
    // another device, signing correctly for itself, shows the box's authorisation
    const impostor = await askForKey(keyRequest(otherDevice, owned.tokenId), otherDevice)
    t.equal(impostor.status, 401, impostor.body)
    t.match(impostor.json, { code: 'SEED_AUTHORISATION_REFUSED', message: /another device/ }, 'the check that failed is named')
    // the box asks for the key to be wrapped to an X25519 key the owner did not authorise
    const otherKey = await askForKey(
      keyRequest(box.identity, owned.tokenId, { x25519PublicKey: Buffer.from(otherDevice.x25519PublicKey).toString('base64url') })
    )
    t.equal(otherKey.status, 401, otherKey.body)
  })

  await t.test('a stale or future request', async t => {
    for (const offsetMs of [-10 * 60_000, 10 * 60_000]) {
      const response = await askForKey(keyRequest(box.identity, owned.tokenId, { issuedAt: new Date(Date.now() + offsetMs).toISOString() }))
      t.equal(response.status, 401, `issued ${offsetMs / 60_000} min from now: ${response.body}`)
    }
    const undated = await askForKey(keyRequest(box.identity, owned.tokenId, { issuedAt: 'yesterday' }))
    t.equal(undated.status, 401, undated.body)
  })

  await t.test('another chain or contract', async t => {
    const otherChain = await askForKey(keyRequest(box.identity, owned.tokenId, { chainId: 1 }))
    t.equal(otherChain.status, 400, otherChain.body)
    const otherContract = await askForKey(keyRequest(box.identity, owned.tokenId, { contract: `0x${'12'.repeat(20)}` }))
    t.equal(otherContract.status, 400, otherContract.body)
  })

  await t.test('malformed bodies', async t => {
    const notJson = await postJson(keyReleaseUrl, '{"authorisation":')
    t.equal(notJson.status, 400, notJson.body)
    const noRequest = await postJson(keyReleaseUrl, { authorisation })
    t.equal(noRequest.status, 400, noRequest.body)
    const payloadNotJson = await postJson(keyReleaseUrl, { authorisation, request: { payload: 'not json', signature: 'AAAA' } })
    t.equal(payloadNotJson.status, 400, payloadNotJson.body)
    const notARequest = await askForKey({
      ...keyRequest(box.identity, owned.tokenId),
      purpose: 'something else'
    } as unknown as FilmKeyRequest)
    t.equal(notARequest.status, 400, notARequest.body)
  })

  await t.test('a film published by an older release, whose record names no creator, still gets its key', async t => {
    const older = await registerFilm(publisher)
    await buyFilm(owner, devnet.contractAddress, older.tokenId)
    const films = section(custodian.db, 'published')
    const { creator: _creator, contract: _contract, ...asOlderReleasesKeptIt } = (await films.get(older.tokenId)) as PublishedFilm
    await films.put(older.tokenId, asOlderReleasesKeptIt)
    const response = await askForKey(keyRequest(box.identity, older.tokenId))
    t.equal(response.status, 200, response.body)
  })

  await t.test('after all that, the right request still gets the key', async t => {
    const response = await askForKey(keyRequest(box.identity, owned.tokenId))
    t.equal(response.status, 200, response.body)
  })
})

t.test('the custody store keeps content keys sealed under a 0600 master key', async t => {
  const stateDir = path.join(custodianDir, 'state')
  const files = (await readdir(stateDir)).map(name => path.join(stateDir, name))
  const contents = Buffer.concat(await Promise.all(files.map(async file => await readFile(file))))
  t.ok(contents.includes(owned.contentCid.toString()), 'the scan sees the database contents (the content CID is a key there)')
  const key = Buffer.from(owned.contentKey)
  for (const encoding of ['hex', 'base64', 'base64url'] as const) {
    t.notOk(contents.includes(key.toString(encoding)), `no ${encoding} content key in the state database`)
  }
  t.notOk(contents.includes(key), 'no raw content key in the state database')

  const masterKey = path.join(custodianDir, 'keys', 'custody-master.key')
  t.equal((await stat(masterKey)).mode & 0o777, 0o600, 'the master key file is 0600')
  t.equal((await stat(path.dirname(masterKey))).mode & 0o777, 0o700, 'in a 0700 folder')

  const withAnotherMasterKey = await openCustodyStore(testDir(t, 'another-custodian'), custodian.db)
  const refused = await withAnotherMasterKey.get(owned.contentCid.toString()).then(
    () => undefined,
    (err: unknown) => err
  )
  t.ok(refused instanceof CustodyError, `the database with another master key opens nothing (${String(refused)})`)
})
