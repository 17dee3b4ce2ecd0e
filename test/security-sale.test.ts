// A sale stops the streams already open (issue 11, finding 8), tried as the attacker would: a TV (or a
// client posing as one) opens one open-ended range, reads slowly, and the owner's token is transferred
// away on the devnet mid-read. New ranges were refused, but the open one used to run on to the end of
// the film. Real devnet, custodian, box and bitswap.
import t from 'tap'
import http from 'node:http'
import { devnetWallet, startTestDevnet } from './helpers/devnet.ts'
import { buyFilm, registerFilm, transferFilm } from './helpers/films.ts'
import { libraryFilm } from './helpers/http.ts'
import { daemonConfig, startTestDaemon, testDir } from './helpers/in-process.ts'
import { signInAsOwner } from './helpers/owner-session.ts'
import { waitFor } from './helpers/wait-for.ts'

const MiB = 1024 * 1024
const FILM_BYTES = 16 * MiB
/** What a TV's player holds before it stops reading: the box then waits on TCP backpressure. */
const READ_BEFORE_SALE = MiB / 4
/**
 * At most this much may still arrive once the box shows the film locked: what sat in the sockets'
 * buffers and the stream's read-ahead when the connection was cut, never the rest of the film.
 */
const MOST_AFTER_LOCK = 4 * MiB

const devnet = await startTestDevnet(t)
const creator = devnetWallet(t, devnet, devnet.accounts.creator.privateKey)
const owner = devnetWallet(t, devnet, devnet.accounts.owner.privateKey)
const custodian = await startTestDaemon(t, daemonConfig(devnet, testDir(t, 'custodian'), ['custodian']))
const box = await startTestDaemon(t, daemonConfig(devnet, testDir(t, 'box'), ['player'], custodian.multiaddrs()))
const tv = await signInAsOwner(box.url, owner)

/** Every stream request of this file, as the owner's signed-in TV makes it. */
async function openStream(tokenId: string, range: string): Promise<http.IncomingMessage> {
  return await new Promise((resolve, reject) => {
    const request = http.get(
      `${box.url}/api/films/${tokenId}/stream`,
      { agent: false, headers: { range, cookie: tv.headers.cookie } },
      resolve
    )
    request.on('error', reject)
  })
}

t.test('a token sold while a long range is read: the open stream is cut, with nothing but the true prefix', async t => {
  const film = await registerFilm({ custodian, creator, contractAddress: devnet.contractAddress, bytes: FILM_BYTES })
  await buyFilm(owner, devnet.contractAddress, film.tokenId)
  await waitFor('the film to be ready on the box', async () => (await libraryFilm(box.url, film.tokenId, tv.headers))?.state === 'ready', {
    timeoutMs: 120_000
  })

  const stream = await openStream(film.tokenId, 'bytes=0-')
  t.equal(stream.statusCode, 206)
  t.equal(stream.headers['content-range'], `bytes 0-${FILM_BYTES - 1}/${FILM_BYTES}`)
  const parts: Buffer[] = []
  let received = 0
  let full: (() => void) | undefined
  const filled = new Promise<void>(resolve => (full = resolve))
  stream.on('data', (part: Buffer) => {
    parts.push(part)
    received += part.length
    if (received >= READ_BEFORE_SALE && full !== undefined) {
      stream.pause()
      full()
      full = undefined
    }
  })
  stream.on('error', () => {}) // a cut shows as an incomplete body
  const closed = new Promise<void>(resolve => stream.on('close', resolve))
  await filled

  await transferFilm(owner, devnet.accounts.otherCollector.address, devnet.contractAddress, film.tokenId)
  const locked = await waitFor('the box to lock the sold film', async () => {
    const view = await libraryFilm(box.url, film.tokenId, tv.headers)
    return view?.state === 'locked' && view
  })
  const atLock = received
  stream.resume()
  await closed

  const afterLock = received - atLock
  t.notOk(stream.complete, 'the body was cut, not ended as if it were whole')
  t.ok(received < FILM_BYTES, `not the whole film: ${received} of ${FILM_BYTES} bytes`)
  t.ok(afterLock <= MOST_AFTER_LOCK, `${afterLock} bytes arrived after the box showed the film locked (at most ${MOST_AFTER_LOCK})`)
  t.ok(Buffer.concat(parts).equals(film.plaintext.subarray(0, received)), 'every byte received is the film at its position')

  // what the TV's player reads to say why playback stopped
  t.match(locked, { state: 'locked', playable: false, storage: { local: 'releasing' } })
  const refused = await openStream(film.tokenId, 'bytes=0-')
  const body = await new Promise<string>(resolve => {
    let text = ''
    refused.setEncoding('utf8')
    refused.on('data', (part: string) => (text += part))
    refused.on('end', () => resolve(text))
  })
  t.equal(refused.statusCode, 403, 'a new range is refused')
  t.equal(JSON.parse(body).code, 'SEED_FILM_NOT_OWNED')
})
