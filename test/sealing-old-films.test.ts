// Films sealed before publish's default became ChaCha20-Poly1305 (cipher id 1, AES-256-GCM, in their
// header and metadata) keep playing on a box beside films sealed with the new default: whole and by range.
import t from 'tap'
import path from 'node:path'
import { DEFAULT_CIPHER, DEFAULT_CHUNK_SIZE, HEADER_LENGTH, decodeHeader } from '../server/sealing/format.ts'
import { devnetWallet, startTestDevnet } from './helpers/devnet.ts'
import { runCli } from './helpers/daemon-process.ts'
import { buyFilm, registerFilm } from './helpers/films.ts'
import { libraryFilm, streamRequest } from './helpers/http.ts'
import { daemonConfig, startTestDaemon, testDir } from './helpers/in-process.ts'
import { signedInCookie } from './helpers/owner-session.ts'
import { waitFor } from './helpers/wait-for.ts'

// several chunks, the last one short
const FILM_BYTES = 3 * DEFAULT_CHUNK_SIZE + 777

const devnet = await startTestDevnet(t)
const creator = devnetWallet(t, devnet, devnet.accounts.creator.privateKey)
const owner = devnetWallet(t, devnet, devnet.accounts.owner.privateKey)
const custodian = await startTestDaemon(t, daemonConfig(devnet, testDir(t, 'custodian'), ['custodian']))
const box = await startTestDaemon(t, daemonConfig(devnet, testDir(t, 'box'), ['player'], custodian.multiaddrs()))
const screen = await signedInCookie(box.url, owner)

t.equal(DEFAULT_CIPHER, 'chacha20-poly1305', 'publish seals new films with ChaCha20-Poly1305')
for (const cipher of ['aes-256-gcm', 'chacha20-poly1305'] as const) {
  t.test(`a film sealed with ${cipher} streams on the box`, async t => {
    const film = await registerFilm({ custodian, creator, contractAddress: devnet.contractAddress, bytes: FILM_BYTES, cipher })
    const header = decodeHeader(await custodian.helia.content.readBytes(film.contentCid, { offset: 0, length: HEADER_LENGTH }))
    t.equal(header.cipher, cipher, 'the sealed header names the cipher')
    await buyFilm(owner, devnet.contractAddress, film.tokenId)
    await waitFor(`the ${cipher} film ready on the box`, async () => (await libraryFilm(box.url, film.tokenId, screen))?.state === 'ready')
    const url = `${box.url}/api/films/${film.tokenId}/stream`
    const whole = await streamRequest(url, screen)
    t.equal(whole.status, 200)
    t.ok(whole.body.equals(film.plaintext), 'the whole film, byte for byte')
    const start = DEFAULT_CHUNK_SIZE - 100
    const end = 3 * DEFAULT_CHUNK_SIZE + 10 // across chunks 0..3, into the short last one
    const part = await streamRequest(url, { ...screen, range: `bytes=${start}-${end}` })
    t.equal(part.status, 206)
    t.ok(part.body.equals(film.plaintext.subarray(start, end + 1)), `bytes ${start}-${end}, byte for byte`)
  })
}

t.test('publish --cipher takes only a cipher boxes can open', async t => {
  const args = ['publish', path.join(testDir(t, 'nowhere'), 'film.mp4'), '--title', 'Never published', '--cipher', 'aes-128-cbc']
  await t.rejects(runCli([...args, '--data-dir', testDir(t, 'publisher')]), /--cipher must be one of aes-256-gcm, chacha20-poly1305/)
})
