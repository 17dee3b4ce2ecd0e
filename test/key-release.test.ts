import t from 'tap'
import { randomBytes } from 'node:crypto'
import { readdir, readFile, stat } from 'node:fs/promises'
import path from 'node:path'
import { Contract, parseEther, type Wallet } from 'ethers'
import { loadFilmTokenArtifact } from '../server/chain/artifacts.ts'
import type { Daemon } from '../server/daemon.ts'
import { pairAsOwner } from '../server/demo.ts'
import { loadOrCreateDeviceIdentity, type DeviceIdentity } from '../server/identity/device-identity.ts'
import { signPayload } from '../server/identity/device-signature.ts'
import { openCustodyStore, CustodyError } from '../server/keys/custody-store.ts'
import { filmKeyContext, KEY_RELEASE_PATH, requestFilmKey, type FilmKeyRequest } from '../server/keys/key-request.ts'
import { unwrapKey, KeyWrapError } from '../server/keys/wrap.ts'
import type { FilmMetadata } from '../server/library/film-metadata.ts'
import { createPairingStore } from '../server/pairing/pairing-store.ts'
import type { OwnerAuthorisation } from '../server/pairing/owner-authorisation.ts'
import { DEFAULT_CHUNK_SIZE } from '../server/sealing/format.ts'
import { generateContentKey, sealBuffer } from '../server/sealing/seal.ts'
import { addBytes } from '../server/storage/content.ts'
import { daemonConfig, devnetWallet, postJson, startTestDaemon, startTestDevnet, testDir } from './helpers/in-process.ts'

const PRICE = parseEther('0.01')
const { abi } = await loadFilmTokenArtifact()

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

/**
 * Publishes a small film by hand, as publish would without ffmpeg: sealed random bytes and metadata
 * on the custodian's Helia, registered on chain. `keepKey: false` leaves the key out of custody.
 */
async function registerFilm (opts: { keepKey?: boolean } = {}): Promise<{ tokenId: string; contentKey: Uint8Array; contentCid: string }> {
  const contentKey = generateContentKey()
  const plaintext = randomBytes(5 * 1024)
  const sealed = sealBuffer(contentKey, plaintext)
  const contentCid = (await addBytes(custodian.helia, sealed)).toString()
  if (opts.keepKey !== false) await (custodian.custody as NonNullable<Daemon['custody']>).put(contentCid, contentKey)
  const posterCid = (await addBytes(custodian.helia, randomBytes(512))).toString()
  const metadata: FilmMetadata = {
    schema: 'seed-one/film-metadata/v1',
    title: 'Key release test film',
    synopsis: 'Random bytes.',
    durationSeconds: 1,
    contentClass: 'test',
    content: {
      cid: contentCid,
      sealedBytes: sealed.length,
      plaintextBytes: plaintext.length,
      mimeType: 'video/mp4',
      sealing: { format: 'seed-one/sealed/v1', cipher: 'aes-256-gcm', chunkSize: DEFAULT_CHUNK_SIZE },
      audio: []
    },
    poster: { cid: posterCid, mimeType: 'image/jpeg' },
    subtitles: [],
    custodian: { url: custodian.url, peerId: custodian.identity.deviceId }
  }
  const metadataCid = await addBytes(custodian.helia, new TextEncoder().encode(JSON.stringify(metadata)))
  const token = new Contract(devnet.contractAddress, abi, creator)
  const receipt = await (await token.getFunction('registerFilm')(`ipfs://${metadataCid}`, PRICE, 1000, [100, 5000], creator.address, 500)).wait()
  const registered = receipt.logs.map((log: { topics: string[]; data: string }) => token.interface.parseLog(log)).find((e: { name?: string } | null) => e?.name === 'FilmRegistered')
  return { tokenId: String(registered.args.id), contentKey, contentCid }
}

async function buy (buyer: Wallet, tokenId: string): Promise<void> {
  await (await new Contract(devnet.contractAddress, abi, buyer).getFunction('buy')(tokenId, 1, { value: PRICE })).wait()
}

function keyRequest (identity: DeviceIdentity, tokenId: string, overrides: Partial<FilmKeyRequest> = {}): FilmKeyRequest {
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
async function askForKey (request: FilmKeyRequest, signer: DeviceIdentity = box.identity) {
  return await postJson(keyReleaseUrl, { authorisation, request: await signPayload(signer, request) })
}

const owned = await registerFilm()
await buy(owner, owned.tokenId)
const otherDevice = await loadOrCreateDeviceIdentity(testDir(t, 'other-device'))

t.test('the holder\'s paired device gets the film key, wrapped to that device alone', async t => {
  const { wrappedKey, owner: reportedOwner } = await requestFilmKey({
    custodianUrl: custodian.url,
    identity: box.identity,
    authorisation,
    chainId: devnet.chainId,
    contract: devnet.contractAddress,
    tokenId: owned.tokenId
  })
  t.equal(reportedOwner, owner.address)
  const context = filmKeyContext(devnet.chainId, devnet.contractAddress, owned.tokenId, box.identity.deviceId)
  t.same(Buffer.from(unwrapKey(wrappedKey, box.identity.x25519PrivateKey, context)), Buffer.from(owned.contentKey), 'unwraps to the content key')
  t.not(wrappedKey.ciphertext, Buffer.from(owned.contentKey).toString('base64url'), 'the key does not travel in the clear')

  const otherContext = filmKeyContext(devnet.chainId, devnet.contractAddress, owned.tokenId, otherDevice.deviceId)
  t.throws(() => unwrapKey(wrappedKey, box.identity.x25519PrivateKey, otherContext), KeyWrapError, 'not for another device\'s context')
  t.throws(() => unwrapKey(wrappedKey, otherDevice.x25519PrivateKey, context), KeyWrapError, 'not with another device\'s key')
  const otherFilm = filmKeyContext(devnet.chainId, devnet.contractAddress, String(Number(owned.tokenId) + 1), box.identity.deviceId)
  t.throws(() => unwrapKey(wrappedKey, box.identity.x25519PrivateKey, otherFilm), KeyWrapError, 'not as another film\'s key')
})

t.test('refusals', async t => {
  await t.test('the owner holds no token of the film', async t => {
    const unsold = await registerFilm()
    const response = await askForKey(keyRequest(box.identity, unsold.tokenId))
    t.equal(response.status, 403, response.body)
    t.match(response.json.message, /holds no token/)
  })

  await t.test('the film is not registered', async t => {
    const response = await askForKey(keyRequest(box.identity, '999999'))
    t.ok(response.status === 403 || response.status === 404, `${response.status}: ${response.body}`)
  })

  await t.test('a film whose key this custodian does not hold', async t => {
    const elsewhere = await registerFilm({ keepKey: false })
    await buy(owner, elsewhere.tokenId)
    const response = await askForKey(keyRequest(box.identity, elsewhere.tokenId))
    t.equal(response.status, 404, response.body)
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

  await t.test('the owner\'s authorisation names another device or key', async t => {
    // another device, signing correctly for itself, shows the box's authorisation
    const impostor = await askForKey(keyRequest(otherDevice, owned.tokenId), otherDevice)
    t.equal(impostor.status, 401, impostor.body)
    t.match(impostor.json.message, /another device/)
    // the box asks for the key to be wrapped to an X25519 key the owner did not authorise
    const otherKey = await askForKey(keyRequest(box.identity, owned.tokenId, { x25519PublicKey: Buffer.from(otherDevice.x25519PublicKey).toString('base64url') }))
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
    const notARequest = await askForKey({ ...keyRequest(box.identity, owned.tokenId), purpose: 'something else' } as unknown as FilmKeyRequest)
    t.equal(notARequest.status, 400, notARequest.body)
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
  t.ok(contents.includes(owned.contentCid), 'the scan sees the database contents (the content CID is a key there)')
  const key = Buffer.from(owned.contentKey)
  for (const encoding of ['hex', 'base64', 'base64url'] as const) {
    t.notOk(contents.includes(key.toString(encoding)), `no ${encoding} content key in the state database`)
  }
  t.notOk(contents.includes(key), 'no raw content key in the state database')

  const masterKey = path.join(custodianDir, 'keys', 'custody-master.key')
  t.equal((await stat(masterKey)).mode & 0o777, 0o600, 'the master key file is 0600')
  t.equal((await stat(path.dirname(masterKey))).mode & 0o777, 0o700, 'in a 0700 folder')

  const withAnotherMasterKey = await openCustodyStore(testDir(t, 'another-custodian'), custodian.db)
  const refused = await withAnotherMasterKey.get(owned.contentCid).then(() => undefined, (err: unknown) => err)
  t.ok(refused instanceof CustodyError, `the database with another master key opens nothing (${String(refused)})`)
})
