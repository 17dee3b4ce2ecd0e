// 10 000 generated Range headers against a real box's stream route (devnet, custodian and box daemons,
// the film pinned on the box), over keep-alive HTTP: the box never crashes, and every answer is the one
// RFC 9110 prescribes (test/helpers/range-oracle.ts), with the exact plaintext slice in every 206.
// RANGE_FUZZ_SEED=<n> reruns one seed; RANGE_FUZZ_COUNT=<n> changes the number of headers.
import t from 'tap'
import http from 'node:http'
import { DEFAULT_LEAF_SIZE } from '../server/storage/content.ts'
import { DEFAULT_CHUNK_SIZE, HEADER_LENGTH, TAG_LENGTH } from '../server/sealing/format.ts'
import { startDaemonProcess } from './helpers/daemon-process.ts'
import { devnetWallet, startTestDevnet } from './helpers/devnet.ts'
import { buyFilm, registerFilm } from './helpers/films.ts'
import { getJson, libraryFilm } from './helpers/http.ts'
import { daemonConfig, startTestDaemon, testDir } from './helpers/in-process.ts'
import { signedInCookie } from './helpers/owner-session.ts'
import { expectedAnswer, type Expected } from './helpers/range-oracle.ts'
import { rangeCases, type RangeCase } from './helpers/range-headers.ts'
import { waitFor } from './helpers/wait-for.ts'

const SEED = Number(process.env.RANGE_FUZZ_SEED ?? Math.floor(Math.random() * 2 ** 32))
const COUNT = Number(process.env.RANGE_FUZZ_COUNT ?? 10_000)
// 2.5 MiB and a bit: 41 chunks of 64 KiB (the last one short) in three leaf blocks
const FILM_BYTES = 2.5 * 1024 * 1024 + 12_345
const CLIENTS = 4
// Headers the box must ignore get the whole film (200): the first FULL_BODIES of those GETs are read in
// full, then one in CUT_EVERY is a GET dropped after its first bytes (a client that goes away) and
// the rest are HEADs, which take the same path to the same status and headers without 2.6 MB each.
const FULL_BODIES = 40
const CUT_EVERY = 10
// socket inactivity: far beyond any answer here, to report a request the box never answers
const ANSWER_TIMEOUT_MS = 15_000

t.comment(`Range fuzz seed ${SEED} (rerun with RANGE_FUZZ_SEED=${SEED})`)

const devnet = await startTestDevnet(t)
const creator = devnetWallet(t, devnet, devnet.accounts.creator.privateKey)
const owner = devnetWallet(t, devnet, devnet.accounts.owner.privateKey)
const custodian = await startTestDaemon(t, daemonConfig(devnet, testDir(t, 'custodian'), ['custodian']))
// the box in a process of its own: a crash is its exit, and it does not share a core with the client
const box = await startDaemonProcess([
  ...['--data-dir', testDir(t, 'box'), '--port', '0', '--p2p-listen', '/ip4/127.0.0.1/tcp/0'],
  ...['--peer', custodian.multiaddrs()[0] as string, '--rpc-url', devnet.rpcUrl, '--contract', devnet.contractAddress],
  ...['--deployment-block', String(devnet.deploymentBlock), '--chain-poll-ms', '200']
])
t.teardown(() => box.close())
const screen = await signedInCookie(box.url, owner)
const film = await registerFilm({ custodian, creator, contractAddress: devnet.contractAddress, bytes: FILM_BYTES })
await buyFilm(owner, devnet.contractAddress, film.tokenId)
await waitFor('the film pinned on the box', async () => (await libraryFilm(box.url, film.tokenId, screen))?.state === 'ready', {
  timeoutMs: 120_000
})
const streamUrl = `${box.url}/api/films/${film.tokenId}/stream`
const size = film.plaintext.length

/** Plaintext offsets where chunks and leaf blocks begin and end. */
function boundaries(): number[] {
  const chunks = Array.from({ length: Math.ceil(size / DEFAULT_CHUNK_SIZE) + 1 }, (_, i) => i * DEFAULT_CHUNK_SIZE)
  const sealedChunk = DEFAULT_CHUNK_SIZE + TAG_LENGTH
  const leaves = [1, 2].map(leaf => {
    const sealed = leaf * DEFAULT_LEAF_SIZE - HEADER_LENGTH
    return Math.floor(sealed / sealedChunk) * DEFAULT_CHUNK_SIZE + Math.min(sealed % sealedChunk, DEFAULT_CHUNK_SIZE)
  })
  return [...chunks, ...leaves].filter(at => at <= size)
}

interface Answer {
  status: number
  headers: http.IncomingHttpHeaders
  body: Buffer
  complete: boolean
}

/** GET read whole, GET dropped after its first bytes, or HEAD. */
type Mode = 'whole' | 'cut' | 'head'

const agent = new http.Agent({ keepAlive: true, maxSockets: CLIENTS })
t.teardown(() => agent.destroy())
/** Requests sent on a connection an earlier answer left open. */
let reusedConnections = 0

async function send(lines: string[], mode: Mode): Promise<Answer> {
  // raw header lines (to repeat Range), which Node sends as given: Host too
  const headers = ['host', new URL(streamUrl).host, 'cookie', screen.cookie, ...lines.flatMap(line => ['range', line])]
  return await new Promise((resolve, reject) => {
    const req = http.request(streamUrl, { method: mode === 'head' ? 'HEAD' : 'GET', headers, agent }, res => {
      if (req.reusedSocket) reusedConnections++
      const parts: Buffer[] = []
      const done = (): void =>
        resolve({ status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(parts), complete: res.complete })
      res.on('data', (part: Buffer) => {
        parts.push(part)
        if (mode === 'cut') {
          res.removeAllListeners('end')
          res.destroy()
          done()
        }
      })
      res.on('end', done)
      res.on('error', reject)
    })
    req.setTimeout(ANSWER_TIMEOUT_MS, () => req.destroy(new Error(`no answer within ${ANSWER_TIMEOUT_MS} ms`)))
    req.on('error', reject)
    req.end()
  })
}

/** What is wrong with `answer`, expected to be `expected`, or undefined. */
function check(expected: Expected, answer: Answer, mode: Mode): string | undefined {
  if (answer.status !== expected.status) return `status ${answer.status}, expected ${expected.status}`
  const h = answer.headers
  if (h['accept-ranges'] !== 'bytes') return `Accept-Ranges ${h['accept-ranges']}`
  if (expected.status === 416) {
    if (h['content-range'] !== `bytes */${size}`) return `416 with Content-Range ${h['content-range']}`
    return answer.body.length === 0 ? undefined : `416 with a body of ${answer.body.length} bytes`
  }
  const [start, end] = expected.status === 206 ? [expected.start, expected.end] : [0, size - 1]
  if (h['content-length'] !== String(end - start + 1)) return `Content-Length ${h['content-length']}, expected ${end - start + 1}`
  const range = expected.status === 206 ? `bytes ${start}-${end}/${size}` : undefined
  if (h['content-range'] !== range) return `Content-Range ${h['content-range']}, expected ${range}`
  if (mode === 'head') return answer.body.length === 0 ? undefined : 'a body on HEAD'
  const slice = film.plaintext.subarray(start, end + 1)
  if (mode === 'cut')
    return slice.subarray(0, answer.body.length).equals(answer.body) ? undefined : 'the start of the body is not the plaintext'
  if (!answer.complete) return 'the body did not end cleanly'
  return answer.body.equals(slice) ? undefined : `the body (${answer.body.length} bytes) is not the plaintext ${start}-${end}`
}

t.test(`${COUNT} generated Range headers, answered per RFC 9110`, async t => {
  const cases = rangeCases(SEED, COUNT, size, boundaries())
  const failures: string[] = []
  const tally = new Map<string, number>()
  let ignored = 0
  let next = 0
  const started = Date.now()
  const client = async (): Promise<void> => {
    while (next < cases.length) {
      const index = next++
      const test = cases[index] as RangeCase
      // the server combines repeated field lines into one value, comma separated (RFC 9110 §5.3)
      const expected = expectedAnswer(test.lines.join(', '), size)
      let mode: Mode = test.head ? 'head' : 'whole'
      if (expected.status === 200 && !test.head) {
        ignored++
        mode = ignored <= FULL_BODIES ? 'whole' : ignored % CUT_EVERY === 0 ? 'cut' : 'head'
      }
      let problem: string | undefined
      try {
        const answer = await send(test.lines, mode)
        problem = check(expected, answer, mode)
        const key = `${test.kind} → ${answer.status}`
        tally.set(key, (tally.get(key) ?? 0) + 1)
      } catch (err) {
        problem = `request failed: ${(err as Error).message}`
      }
      if (problem !== undefined) failures.push(`#${index} ${mode} ${JSON.stringify(test.lines)} (${test.kind}): ${problem}`)
    }
  }
  await Promise.all(Array.from({ length: CLIENTS }, client))
  t.comment(`${cases.length} requests in ${((Date.now() - started) / 1000).toFixed(1)} s`)
  t.ok(reusedConnections > cases.length / 2, `${reusedConnections} requests went on a kept-alive connection`)
  t.comment(
    [...tally]
      .sort()
      .map(([kind, n]) => `${kind}: ${n}`)
      .join('\n')
  )
  t.same(failures.slice(0, 25), [], `${failures.length} of ${cases.length} answers are wrong (seed ${SEED})`)
  for (const status of [200, 206, 416]) {
    t.ok(
      [...tally.keys()].some(key => key.endsWith(`→ ${status}`)),
      `the headers drew ${status} answers`
    )
  }
})

t.test('the box still answers and streams afterwards', async t => {
  t.equal((await getJson(`${box.url}/api/status`)).paired, true)
  const answer = await send(['bytes=1000-70000'], 'whole')
  t.equal(answer.status, 206)
  t.ok(answer.body.equals(film.plaintext.subarray(1000, 70001)), 'a range still plays')
  t.equal((await libraryFilm(box.url, film.tokenId, screen))?.state, 'ready')
})
