// How long one proof-of-holding challenge (issue 15: n leaves of 1 MiB, hashed with a nonce) takes a
// box that holds the leaves, against a box that holds nothing and fetches them from a sibling that does.
//
//   npx node bench/challenge-fetch.ts [--blocks 64] [--rounds 1]
//
// A forked source process is the sibling: a storage node (Helia, bitswap behind the peer-serving gate)
// holding a sealed film of random bytes, with the box's routes (block route, challenge route). This
// process asks, per round and for n leaves drawn at random:
//   - honest: the source's own answer to a v2 challenge (its disk, sha2-256 with the nonce), over loopback;
//   - the leaves fetched from the source as a proxying node would: over its block route (all at once)
//     and over bitswap (a fresh storage node dialled to it), on loopback and through a simulated home
//     uplink (test/helpers/throttled-link.ts: round trip and rate shared by every connection).
// Figures are medians over the rounds (one by default: the throttled rows are set by the link and
// vary by under 1% from round to round; the loopback rows are noisy on a loaded machine); the deadline
// compared with is the monitor's default for n leaves.
import { startSourceProcess, withSourceNode } from './source-process.ts'
import { randomBytes, randomInt } from 'node:crypto'
import { once } from 'node:events'
import { mkdtemp, rm } from 'node:fs/promises'
import type { AddressInfo } from 'node:net'
import os from 'node:os'
import path from 'node:path'
import { parseArgs } from 'node:util'
import * as dagPb from '@ipld/dag-pb'
import { generateKeyPair } from '@libp2p/crypto/keys'
import { CID } from 'multiformats/cid'
import { multiaddr } from '@multiformats/multiaddr'
import { peerIdFromString } from '@libp2p/peer-id'
import { resolveMonitorConfig } from '../server/monitor/monitor-config.ts'
import { replicationRoutes } from '../server/replication/routes.ts'
import { generateContentKey, sealBuffer } from '../server/sealing/seal.ts'
import { addBytes, heldBlock } from '../server/storage/content.ts'
import { createStorageNode } from '../server/storage/helia-node.ts'
import { holdingProof, NONCE_BYTES } from '../server/wire/holding-proof.ts'
import { BLOCK_PATH, CHALLENGE_PATH } from '../server/wire/monitor-protocol.ts'
import { startThrottledLink, type LinkShape } from '../test/helpers/throttled-link.ts'
import { median, report } from './report.ts'

const MiB = 1024 * 1024
/** Home uplinks a proxying node's sibling might have (upload rate: what a home box serves at). */
const HOME_LINKS: Array<{ name: string; shape: LinkShape }> = [
  { name: '20 Mbit/s, 20 ms', shape: { rttMs: 20, bytesPerSec: 20e6 / 8 } },
  { name: '10 Mbit/s, 40 ms', shape: { rttMs: 40, bytesPerSec: 10e6 / 8 } }
]

interface Source {
  apiUrl: string
  /** The source's libp2p TCP address and peer id. */
  tcpPort: number
  peerId: string
  leaves: string[]
}

/** The sibling: a film of `leaves` MiB on a storage node with the box's routes; tells the parent where. */
async function runSource(leaves: number): Promise<void> {
  await withSourceNode('seed-one-bench-challenge-', async ({ helia, serving, app }) => {
    // a little short of `leaves` MiB of plaintext: the seal's tags make it `leaves` leaves
    const root = await addBytes(helia, sealBuffer(generateContentKey(), randomBytes(leaves * MiB - 64 * 1024)))
    const links = dagPb.decode((await heldBlock(helia.blockstore, root)) as Uint8Array).Links
    await app.register(replicationRoutes, { helia, serving })
    await app.listen({ host: '127.0.0.1', port: 0 })
    const tcpPort = helia.libp2p
      .getMultiaddrs()[0]
      .getComponents()
      .find(c => c.name === 'tcp')?.value
    const source: Source = {
      apiUrl: `http://127.0.0.1:${(app.server.address() as AddressInfo).port}`,
      tcpPort: Number(tcpPort),
      peerId: helia.libp2p.peerId.toString(),
      leaves: links.map(link => link.Hash.toString())
    }
    process.send?.(source)
    await once(process, 'disconnect')
  })
}

/** `count` distinct leaves drawn at random, as the monitor draws them. */
function draw(leaves: string[], count: number): string[] {
  const pool = [...leaves]
  for (let i = pool.length - 1; i > 0; i--) {
    const j = randomInt(i + 1)
    ;[pool[i], pool[j]] = [pool[j], pool[i]]
  }
  return pool.slice(0, count)
}

const since = (started: number): number => performance.now() - started

/** The honest box: its answer to a v2 challenge of `blocks`, from its own disk. */
async function honestAnswer(source: Source, blocks: string[]): Promise<number> {
  const nonce = randomBytes(NONCE_BYTES).toString('base64')
  const body = JSON.stringify({ cid: blocks[0], blocks, deadline: new Date(Date.now() + 60_000).toISOString(), nonce })
  const started = performance.now()
  const response = await fetch(`${source.apiUrl}${CHALLENGE_PATH}`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body
  })
  const { proofs } = (await response.json()) as { proofs?: unknown[] }
  if (response.status !== 200 || proofs?.length !== blocks.length || proofs.includes(null))
    throw new Error(`the source answered ${response.status}`)
  return since(started)
}

/** A proxying node fetching `blocks` from `apiUrl`'s block route, all at once, then hashing them as it must. */
async function httpFetch(apiUrl: string, blocks: string[]): Promise<number> {
  const nonce = randomBytes(NONCE_BYTES)
  const started = performance.now()
  await Promise.all(
    blocks.map(async cid => {
      const response = await fetch(`${apiUrl}${BLOCK_PATH.replace(':cid', cid)}`)
      if (!response.ok) throw new Error(`the block route answered ${response.status}`)
      holdingProof(nonce, new Uint8Array(await response.arrayBuffer()))
    })
  )
  return since(started)
}

/** A proxying node fetching `blocks` over bitswap from the peer at `port`, on a fresh node already connected to it. */
async function bitswapFetch(dir: string, source: Source, port: number, blocks: string[]): Promise<number> {
  const dataDir = await mkdtemp(path.join(dir, 'proxy-'))
  const helia = await createStorageNode({
    dataDir,
    privateKey: await generateKeyPair('Ed25519'),
    listen: [],
    bootstrap: [`/ip4/127.0.0.1/tcp/${port}/p2p/${source.peerId}`]
  })
  try {
    // identify tells the proxy the source's own address, which it would redial when libp2p closes the
    // link's connection (its pings time out behind the leaves on a slow link): keep the link's only
    const link = multiaddr(`/ip4/127.0.0.1/tcp/${port}`)
    const onlyTheLink = (): Promise<unknown> => helia.libp2p.peerStore.patch(peerIdFromString(source.peerId), { multiaddrs: [link] })
    helia.libp2p.addEventListener('peer:identify', () => void onlyTheLink())
    await onlyTheLink()
    const nonce = randomBytes(NONCE_BYTES)
    const started = performance.now()
    await Promise.all(
      blocks.map(async cid => {
        const parts: Uint8Array[] = []
        for await (const part of helia.blockstore.get(CID.parse(cid), { signal: AbortSignal.timeout(120_000) })) parts.push(part)
        holdingProof(nonce, Buffer.concat(parts))
      })
    )
    const elapsed = since(started)
    // the source's own address is learnt by identify: a connection to it would bypass the link
    const bypass = helia.libp2p.getConnections().find(connection => !connection.remoteAddr.toString().includes(`/tcp/${port}/`))
    if (bypass !== undefined) throw new Error(`the bitswap fetch bypassed the link: connected to ${bypass.remoteAddr}`)
    return elapsed
  } finally {
    await helia.close()
    await rm(dataDir, { recursive: true, force: true })
  }
}

/** sha2-256 of `blocks` MiB in this process: the hashing share of an honest answer. */
function hashOnly(blocks: number): number {
  const nonce = randomBytes(NONCE_BYTES)
  const leaf = randomBytes(MiB)
  const started = performance.now()
  for (let i = 0; i < blocks; i++) holdingProof(nonce, leaf)
  return since(started)
}

type Measure = (blocks: string[]) => Promise<number>

async function measures(dir: string, source: Source): Promise<Array<{ name: string; run: Measure }>> {
  const links = await Promise.all(
    HOME_LINKS.map(async ({ name, shape }) => ({
      name,
      http: await startThrottledLink(source.apiUrl, shape),
      p2p: await startThrottledLink(`http://127.0.0.1:${source.tcpPort}`, shape)
    }))
  )
  return [
    { name: 'honest: answer from its own disk (loopback)', run: blocks => honestAnswer(source, blocks) },
    { name: 'honest: sha2-256 alone, in memory', run: async blocks => hashOnly(blocks.length) },
    { name: 'proxy: block route, loopback', run: blocks => httpFetch(source.apiUrl, blocks) },
    { name: 'proxy: bitswap, loopback', run: blocks => bitswapFetch(dir, source, source.tcpPort, blocks) },
    ...links.flatMap(link => [
      { name: `proxy: block route, home uplink ${link.name}`, run: (blocks: string[]) => httpFetch(link.http.url, blocks) },
      {
        name: `proxy: bitswap, home uplink ${link.name}`,
        run: (blocks: string[]) => bitswapFetch(dir, source, Number(new URL(link.p2p.url).port), blocks)
      }
    ])
  ]
}

async function runBench(): Promise<void> {
  const { values } = parseArgs({ options: { blocks: { type: 'string', default: '64' }, rounds: { type: 'string', default: '1' } } })
  const count = Number(values.blocks)
  const rounds = Number(values.rounds)
  if (!Number.isInteger(rounds) || rounds < 1) throw new RangeError(`--rounds must be a positive integer, got ${values.rounds}`)
  const defaults = resolveMonitorConfig(['--admission', 'open'])
  const deadlineMs = defaults.challengeDeadlineMs + defaults.challengeMsPerBlock * count
  const dir = await mkdtemp(path.join(os.tmpdir(), 'seed-one-bench-proxy-'))
  const { child, source } = await startSourceProcess<Source>(import.meta.filename, count + 8)
  const times = new Map<string, number[]>()
  try {
    const runs = await measures(dir, source)
    for (let round = 0; round < rounds; round++) {
      for (const { name, run } of round % 2 === 0 ? runs : runs.toReversed()) {
        const ms = await run(draw(source.leaves, count))
        times.set(name, [...(times.get(name) ?? []), ms])
        console.log(`round ${round + 1}, ${name}: ${ms.toFixed(0)} ms`)
      }
    }
  } finally {
    child.disconnect()
    await once(child, 'exit')
    await rm(dir, { recursive: true, force: true })
  }
  await reportTimes(times, { count, rounds, deadlineMs, command: `npx node bench/challenge-fetch.ts --blocks ${count} --rounds ${rounds}` })
}

async function reportTimes(
  times: Map<string, number[]>,
  run: { count: number; rounds: number; deadlineMs: number; command: string }
): Promise<void> {
  const rows = Object.fromEntries(
    [...times].map(([name, ms]) => [
      name,
      {
        'ms (median)': Math.round(median(ms)),
        'ms (rounds)': ms.map(m => m.toFixed(0)).join(' '),
        'MiB/s': +(run.count / (median(ms) / 1000)).toFixed(1),
        'ms per leaf': +(median(ms) / run.count).toFixed(1),
        'share of the deadline': +(median(ms) / run.deadlineMs).toFixed(2)
      }
    ])
  )
  const honest = median(times.get('honest: answer from its own disk (loopback)') ?? [Infinity])
  const slowestHome = Math.min(...[...times].filter(([name]) => name.includes('home uplink')).map(([, ms]) => median(ms)))
  await report({
    id: 'challenge-fetch',
    title: `A proof-of-holding challenge of ${run.count} leaves of 1 MiB: answering from disk against fetching from a sibling`,
    command: run.command,
    goal: `an honest box answers within 1/5 of the default deadline (${run.deadlineMs} ms) and a node fetching the leaves over a home uplink needs at least 5 times it`,
    met: honest <= run.deadlineMs / 5 && slowestHome >= run.deadlineMs * 5,
    rows,
    notes: [
      'the source (the sibling that holds the film) is a separate process: a storage node with the box block and challenge routes; the leaves were written just before, so the honest reads come from the page cache',
      'the proxy fetches all leaves at once and hashes each with the nonce, as it must to answer; a bitswap proxy is a fresh storage node already connected to the source (the dial is not counted)',
      'home uplink: test/helpers/throttled-link.ts, a TCP proxy in this process that delays each direction by half the round trip and paces all connections together at the rate',
      `median of ${run.rounds} rounds, the order alternating by round; leaves drawn at random each time`
    ]
  })
}

if (process.argv.includes('--source')) await runSource(Number(process.argv[process.argv.indexOf('--source') + 1]))
else await runBench()
