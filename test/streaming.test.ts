import t from 'tap'
import http from 'node:http'
import { randomBytes, randomInt } from 'node:crypto'
import type { AddressInfo } from 'node:net'
import { setTimeout as delay } from 'node:timers/promises'
import Fastify from 'fastify'
import { generateKeyPair } from '@libp2p/crypto/keys'
import type { CID } from 'multiformats/cid'
import { createStorageNode, type StorageNode } from '../server/storage/helia-node.ts'
import { DEFAULT_LEAF_SIZE, addBytes, addFile, createContentReader } from '../server/storage/content.ts'
import { HEADER_LENGTH, TAG_LENGTH, sealedLength } from '../server/sealing/format.ts'
import { generateContentKey, sealBuffer } from '../server/sealing/seal.ts'
import { openSealedFilm, type PlaintextStream } from '../server/library/sealed-film.ts'
import { sendPlaintext, type PlaintextSource } from '../server/streaming/send-film.ts'
import { SeedError } from '../server/lib/errors.ts'
import { answerErrorsByCode } from '../server/http/error-handler.ts'
import { blockBytes, childCids } from './helpers/blocks.ts'
import { streamRequest as request } from './helpers/http.ts'

// Small film: 1 KiB chunks, 10 full chunks and a partial one, in 2 KiB leaves so chunks straddle blocks.
const CHUNK = 1024
const SMALL_LENGTH = 10 * CHUNK + 300
const SMALL_LEAF = 2048
// Larger film with the production chunk and leaf sizes, long enough to cross several read windows.
const LARGE_LENGTH = 9 * 1024 * 1024 + 12345

// the subtest type (the last `t.test` overload takes only the callback)
type Test = Parameters<Parameters<typeof t.test>[0]>[0]

async function addSealed(node: StorageNode, plaintext: Uint8Array, key: Uint8Array, chunkSize: number, leafSize?: number): Promise<CID> {
  const sealed = sealBuffer(key, plaintext, { chunkSize })
  return await addFile(
    node,
    (async function* () {
      yield sealed
    })(),
    undefined,
    leafSize
  )
}

async function serve(
  t: Test,
  routes: Record<string, PlaintextSource>,
  logLines: string[] = [],
  cut = new AbortController().signal
): Promise<string> {
  const app = Fastify({
    logger: {
      level: 'error',
      stream: {
        write: (line: string) => {
          logLines.push(line)
        }
      }
    }
  })
  answerErrorsByCode(app)
  for (const [path, film] of Object.entries(routes)) {
    app.get(path, (request, reply) => sendPlaintext(request, reply, film, 'video/mp4', cut))
  }
  await app.listen({ host: '127.0.0.1', port: 0 })
  t.teardown(() => app.close())
  return `http://127.0.0.1:${(app.server.address() as AddressInfo).port}`
}

t.test('sealed films served from Helia through sendPlaintext', async t => {
  const node = await createStorageNode({ dataDir: t.testdir(), privateKey: await generateKeyPair('Ed25519'), listen: [], bootstrap: [] })
  t.teardown(() => node.close())
  const key = generateContentKey()
  const small = randomBytes(SMALL_LENGTH)
  const large = randomBytes(LARGE_LENGTH)
  const smallFilm = await openSealedFilm(node.content, await addSealed(node, small, key, CHUNK, SMALL_LEAF), key)
  const largeFilm = await openSealedFilm(node.content, await addSealed(node, large, key, 65536), key)
  t.equal(smallFilm.plaintextLength, SMALL_LENGTH)
  t.equal(smallFilm.header.chunkSize, CHUNK)
  const base = await serve(t, { '/small': smallFilm, '/large': largeFilm })

  t.test('no Range: 200 with the whole plaintext', async t => {
    for (const [path, plaintext] of [
      ['/small', small],
      ['/large', large]
    ] as const) {
      const res = await request(base + path)
      t.equal(res.status, 200)
      t.equal(res.headers['accept-ranges'], 'bytes')
      t.equal(res.headers['content-type'], 'video/mp4')
      t.equal(res.headers['content-length'], String(plaintext.length))
      t.equal(res.headers['content-range'], undefined)
      t.ok(res.complete)
      t.ok(res.body.equals(plaintext), `${path} body equals the plaintext`)
    }
  })

  t.test('byte ranges: 206 with the slice and its Content-Range', async t => {
    const N = SMALL_LENGTH
    const cases: Array<[string, number, number]> = [
      ['bytes=0-0', 0, 0],
      ['bytes=1023-1024', 1023, 1024], // across a chunk boundary
      ['bytes=2000-6200', 2000, 6200], // across several chunks and leaf blocks
      ['bytes=5000-', 5000, N - 1], // open-ended
      ['bytes=-300', N - 300, N - 1], // suffix: exactly the short last chunk
      ['bytes=-99999', 0, N - 1], // suffix longer than the film
      [`bytes=${N - 1}-${N - 1}`, N - 1, N - 1],
      ['bytes=100-99999', 100, N - 1] // end clamped to the size
    ]
    for (let i = 0; i < 12; i++) {
      const start = randomInt(N)
      const end = randomInt(start, N)
      cases.push([`bytes=${start}-${end}`, start, end])
    }
    for (const [range, start, end] of cases) {
      const res = await request(base + '/small', { range })
      t.equal(res.status, 206, range)
      t.equal(res.headers['content-range'], `bytes ${start}-${end}/${N}`, range)
      t.equal(res.headers['content-length'], String(end - start + 1), range)
      t.ok(res.complete && res.body.equals(small.subarray(start, end + 1)), `${range} body is the plaintext slice`)
    }
    const boundary = 4 * 1024 * 1024 // a read window boundary of the large film, in sealed bytes
    const start = boundary - 3 * 65536
    const end = 2 * boundary + 65536
    const res = await request(base + '/large', { range: `bytes=${start}-${end}` })
    t.equal(res.status, 206)
    t.ok(res.body.equals(large.subarray(start, end + 1)), 'a range across read windows is exact')
  })

  t.test('each chunk sent is freed once the socket has taken it', async t => {
    let freedBytes = 0
    let stillHeld = 0
    const watched: PlaintextSource = {
      plaintextLength: largeFilm.plaintextLength,
      createPlaintextStream(start, end) {
        const stream = largeFilm.createPlaintextStream(start, end)
        const free = stream.free.bind(stream)
        stream.free = chunk => {
          freedBytes += chunk.length
          free(chunk)
          stillHeld += chunk.length
        }
        return stream
      }
    }
    const url = await serve(t, { '/watched': watched })
    const res = await request(url + '/watched', { range: 'bytes=1000-3000999' })
    t.equal(res.status, 206)
    t.ok(res.body.equals(large.subarray(1000, 3001000)), 'the client got the bytes')
    const deadline = Date.now() + 2000 // the last write callbacks may run after the client has read
    while (freedBytes < 3_000_000 && Date.now() < deadline) await delay(10)
    t.equal(freedBytes, 3_000_000, 'every byte sent was in a chunk handed back')
    t.equal(stillHeld, 0, 'each chunk is empty once freed')
  })

  t.test('unsatisfiable range: 416 with bytes */size', async t => {
    for (const range of [`bytes=${SMALL_LENGTH}-`, `bytes=${SMALL_LENGTH + 5}-${SMALL_LENGTH + 9}`, 'bytes=-0']) {
      const res = await request(base + '/small', { range })
      t.equal(res.status, 416, range)
      t.equal(res.headers['content-range'], `bytes */${SMALL_LENGTH}`, range)
    }
  })

  t.test('malformed or multiple ranges, or If-Range: 200 with the whole film', async t => {
    const variants: Array<Record<string, string>> = [
      { range: 'bytes=abc' },
      { range: 'items=0-1' },
      { range: 'bytes=9-3' },
      { range: 'bytes=0-1,5-6' },
      { range: 'bytes=0-1', 'if-range': '"x"' }
    ]
    for (const headers of variants) {
      const res = await request(base + '/small', headers)
      t.equal(res.status, 200, JSON.stringify(headers))
      t.ok(res.body.equals(small), JSON.stringify(headers))
    }
  })

  t.test('HEAD: the headers of the GET, no body', async t => {
    const full = await request(base + '/small', {}, 'HEAD')
    t.equal(full.status, 200)
    t.equal(full.headers['content-length'], String(SMALL_LENGTH))
    t.equal(full.headers['accept-ranges'], 'bytes')
    t.equal(full.body.length, 0)
    const part = await request(base + '/small', { range: 'bytes=10-19' }, 'HEAD')
    t.equal(part.status, 206)
    t.equal(part.headers['content-range'], `bytes 10-19/${SMALL_LENGTH}`)
    t.equal(part.headers['content-length'], '10')
    t.equal(part.body.length, 0)
  })

  t.test('a client that goes away stops the reading', async t => {
    // The film is read through a slow blockstore, 50 ms a block, so reading all of it takes a while and
    // the reads can be counted (a reader of its own, without the node's direct disk reads, so it reads every block there).
    let blocksRead = 0
    const slowBlockstore = {
      has: (cid: CID, options?: { signal?: AbortSignal }) => node.blockstore.has(cid, options),
      async *get(cid: CID, options?: { signal?: AbortSignal }): AsyncGenerator<Uint8Array> {
        await delay(50, undefined, { signal: options?.signal })
        blocksRead++
        yield* node.blockstore.get(cid, options)
      }
    }
    const film = await openSealedFilm(createContentReader({ blockstore: slowBlockstore }, node.fetcher), largeFilm.cid, key)
    let stream: PlaintextStream | undefined
    let readBefore = 0
    const spy = {
      plaintextLength: film.plaintextLength,
      createPlaintextStream(start: number, end: number) {
        readBefore = blocksRead
        stream = film.createPlaintextStream(start, end)
        return stream
      }
    }
    const url = await serve(t, { '/spy': spy })
    await new Promise<void>((resolve, reject) => {
      const req = http.get(url + '/spy', { agent: false }, res => {
        res.once('data', () => {
          req.destroy()
          resolve()
        })
      })
      req.on('error', err => {
        if (!req.destroyed) reject(err)
      })
    })
    const deadline = Date.now() + 5000
    while (stream?.destroyed !== true && Date.now() < deadline) await delay(10)
    t.equal(stream?.destroyed, true, 'the plaintext stream is destroyed')
    t.equal(stream?.readableEnded, false, 'before it had read the whole film')
    const readWhenDestroyed = blocksRead
    await delay(300)
    t.equal(blocksRead, readWhenDestroyed, 'no block is read after it')
    const filmBlocks = Math.ceil(sealedLength(LARGE_LENGTH, 65536) / DEFAULT_LEAF_SIZE) + 1 // its leaves and their root
    t.ok(blocksRead - readBefore < filmBlocks, `${blocksRead - readBefore} of the film's ${filmBlocks} blocks were read`)
  })

  t.test('a cut (the film was sold) answers with its reason before the status line, and resets the connection after it', async t => {
    const sold = new AbortController()
    sold.abort(new SeedError('SEED_FILM_NOT_OWNED', 'film 1 is no longer owned by this wallet: playback stopped'))
    const refused = await request((await serve(t, { '/sold': largeFilm }, [], sold.signal)) + '/sold')
    t.equal(refused.status, 403)
    t.equal(JSON.parse(refused.body.toString()).code, 'SEED_FILM_NOT_OWNED')

    const selling = new AbortController()
    const url = (await serve(t, { '/selling': largeFilm }, [], selling.signal)) + '/selling'
    const cutShort = await new Promise<{ complete: boolean; body: Buffer }>((resolve, reject) => {
      const parts: Buffer[] = []
      let answered = false
      const req = http.get(url, { agent: false }, res => {
        answered = true
        res.once('data', () => selling.abort(new SeedError('SEED_FILM_NOT_OWNED', 'sold')))
        res.on('data', (part: Buffer) => parts.push(part))
        res.on('error', () => {})
        res.on('close', () => resolve({ complete: res.complete, body: Buffer.concat(parts) }))
      })
      req.on('error', err => {
        if (!answered) reject(err) // once the answer is under way, a reset only cuts its body
      })
    })
    t.notOk(cutShort.complete, 'the body is cut short, not ended cleanly')
    t.ok(cutShort.body.length < LARGE_LENGTH, `${cutShort.body.length} of ${LARGE_LENGTH} bytes`)
    t.ok(cutShort.body.equals(large.subarray(0, cutShort.body.length)), 'what arrived is correct plaintext')
  })

  t.test('content that is not sealed is refused', async t => {
    await t.rejects(openSealedFilm(node.content, await addBytes(node, randomBytes(500)), key), {
      name: 'SealedFilmError',
      code: 'SEED_SEALED_FILM_DAMAGED',
      message: /bad magic/
    })
    await t.rejects(openSealedFilm(node.content, await addBytes(node, randomBytes(10)), key), /too few/)
  })

  t.test('a corrupted block cuts the response before any byte of the bad chunk', async t => {
    // a copy of the small film whose third leaf (sealed bytes 4096..6143) gets a flipped byte in chunk 4
    const cid = await addSealed(node, small, key, CHUNK, SMALL_LEAF)
    const leaf = (await childCids(node, cid))[2]
    const bad = Buffer.from(await blockBytes(node, leaf))
    const flipAt = 4500 // sealed offset inside chunk 4 (sealed bytes 56 + 4 * 1040 .. +1040)
    const badChunk = Math.floor((flipAt - HEADER_LENGTH) / (CHUNK + TAG_LENGTH))
    t.equal(badChunk, 4)
    bad[flipAt - 2 * SMALL_LEAF] ^= 0x01
    await node.blockstore.delete(leaf)
    await node.blockstore.put(leaf, bad)

    const film = await openSealedFilm(node.content, cid, key)
    const logLines: string[] = []
    const url = await serve(t, { '/bad': film }, logLines)
    const full = await request(url + '/bad')
    t.equal(full.status, 200)
    t.notOk(full.complete, 'the body is cut short, not ended cleanly')
    t.ok(full.body.length <= badChunk * CHUNK, `received ${full.body.length} bytes, none from chunk ${badChunk}`)
    t.ok(full.body.equals(small.subarray(0, full.body.length)), 'what arrived is correct plaintext')
    const logged = logLines.map(line => JSON.parse(line)).find(entry => /film stream failed/.test(entry.msg))
    t.match(logged?.err?.message, /chunk 4 of 0\.\.10 failed authentication/, 'the failure is logged with its cause')

    const inside = await request(url + '/bad', { range: `bytes=${badChunk * CHUNK + 10}-` })
    t.equal(inside.status, 500, 'a range starting in the bad chunk is answered with an error, before any byte')
    t.match(JSON.parse(inside.body.toString()), { code: 'SEED_SEALED_FILM_DAMAGED', message: /chunk 4 of 0\.\.10 failed authentication/ })

    const before = await request(url + '/bad', { range: `bytes=0-${badChunk * CHUNK - 1}` })
    t.ok(before.complete && before.body.equals(small.subarray(0, badChunk * CHUNK)), 'ranges before the bad chunk still play')
  })
})
