// Retiring a film on the network (issue 17), with real parts: the devnet with the compiled contract, a
// custodian, a storage node and a monitor that follows the chain, on 127.0.0.1. A film registered with
// metadata nobody serves (publish into the wrong data directory) is warned of by name, then retired
// with `seed-one retire`; a film the storage node holds is retired by its creator too. Both leave the
// monitor's catalogue and its counts, the node releases its copies, and neither is warned of again.
import t from 'tap'
import { CID } from 'multiformats/cid'
import * as raw from 'multiformats/codecs/raw'
import { sha256 } from 'multiformats/hashes/sha2'
import { isPinned, pinWithProgress } from '../server/storage/content.ts'
import type { Fleet } from '../server/monitor/fleet.ts'
import { runCliToEnd } from './helpers/daemon-process.ts'
import { connectDevnet, devnetWallet, startTestDevnet } from './helpers/devnet.ts'
import { registerFilm } from './helpers/films.ts'
import { getJson } from './helpers/http.ts'
import { daemonConfig, startTestDaemon, testDir } from './helpers/in-process.ts'
import { startTestMonitor } from './helpers/monitor.ts'
import { waitFor } from './helpers/wait-for.ts'

type LogEntry = { level: number; msg: string; tokenId?: string }
/** A log stream that keeps each JSON line. */
function logged(): { entries: LogEntry[]; logStream: { write(line: string): void } } {
  const entries: LogEntry[] = []
  return { entries, logStream: { write: line => void entries.push(JSON.parse(line) as LogEntry) } }
}
const warningsOf = (entries: LogEntry[], tokenId: string): LogEntry[] =>
  entries.filter(entry => entry.level === 40 && entry.tokenId === tokenId)

const devnet = await startTestDevnet(t)
const { creator: token } = connectDevnet(t, devnet)
const creator = devnetWallet(t, devnet, devnet.accounts.creator.privateKey)
const chain = ['--rpc-url', devnet.rpcUrl, '--contract', devnet.contractAddress]

t.test('a retired film leaves the catalogue, the counts and the storage node, and is warned of no more', async t => {
  const monitorLog = logged()
  const monitor = await startTestMonitor(
    t,
    testDir(t, 'monitor'),
    {
      minReplicas: 3,
      chain: { rpcUrl: devnet.rpcUrl, contractAddress: devnet.contractAddress, deploymentBlock: devnet.deploymentBlock, confirmations: 0 }
    },
    { logLevel: 'warn', logStream: monitorLog.logStream }
  )
  // the custodian reports too (every 2 s: a box that is no storage node reports its pins at its interval only)
  const custodian = await startTestDaemon(t, {
    ...daemonConfig(devnet, testDir(t, 'custodian'), ['custodian']),
    monitorUrl: monitor.url,
    reportIntervalSec: 2
  })
  const held = await registerFilm({ custodian, creator, contractAddress: devnet.contractAddress, bytes: 4000 })
  // the newcomer's film: registered, its metadata on no node
  const lostCid = CID.create(1, raw.code, await sha256.digest(new TextEncoder().encode('published into ./.data')))
  await (await token.getFunction('registerFilm')(`ipfs://${lostCid}`, 1n, 10, [], creator.address, 0)).wait()
  const lostId = String(await token.getFunction('filmCount')())

  const nodeLog = logged()
  const node = await startTestDaemon(
    t,
    { ...daemonConfig(devnet, testDir(t, 'node'), ['storage'], custodian.multiaddrs()), monitorUrl: monitor.url, pinStallMs: 10_000 },
    { logLevel: 'warn', logStream: nodeLog.logStream }
  )
  let fleet: Fleet | undefined
  const heldParts = async (copies: number): Promise<string[] | false> => {
    fleet = await getJson<Fleet>(`${monitor.url}/api/fleet`)
    const parts = fleet.films.find(film => film.tokenId === held.tokenId)?.parts ?? []
    const listed = parts.length === 3 && parts.every(part => part.copies === copies) && fleet.films.some(film => film.tokenId === lostId)
    return listed && parts.map(part => part.cid)
  }
  const heldCids = await waitFor("the node to hold the film's parts and the monitor to list both films", async () => await heldParts(1), {
    timeoutMs: 60_000,
    lastSeen: () => fleet?.films
  })
  // a second copy, on a box that is no storage node (a collector's, say): one the network does not manage
  for (const cid of heldCids) await pinWithProgress(custodian.helia, CID.parse(cid))
  await waitFor('the monitor to count the custodian’s copies', async () => await heldParts(2), { lastSeen: () => fleet?.films })
  t.equal(fleet!.replication.underReplicated, 4, "under 3 copies: the held film's 3 parts at 2, the lost film's metadata at 0")
  for (const [who, log] of [
    ['the monitor', monitorLog],
    ['the storage node', nodeLog]
  ] as const) {
    const warning = await waitFor(`${who} to warn of film ${lostId}`, async () => warningsOf(log.entries, lostId)[0])
    t.match(
      warning.msg,
      `film ${lostId}: its metadata cannot be read from any node; retrying, less often each time`,
      `${who} names the film`
    )
    t.match(warning.msg, `seed-one retire ${lostId}`, '… and the way out')
    t.same(warningsOf(log.entries, held.tokenId), [], `${who} says nothing of the film it can read`)
  }

  const retired = await runCliToEnd(['retire', lostId, ...chain])
  t.equal(retired.code, 0, retired.output)
  await (await token.getFunction('retireFilm')(held.tokenId)).wait()
  await waitFor(
    'the monitor to list neither film nor count their copies',
    async () => {
      fleet = await getJson<Fleet>(`${monitor.url}/api/fleet`)
      return fleet.films.length === 0 && fleet.replication.cids === 0
    },
    { timeoutMs: 60_000, lastSeen: () => [fleet?.films, fleet?.replication] }
  )
  t.equal(
    fleet!.replication.underReplicated,
    0,
    'nothing is under 3 copies: the custodian still holds the retired film, which counts no more'
  )
  await waitFor('the storage node to release its copies of the retired film', async () => {
    for (const cid of heldCids) if (await isPinned(node.helia, CID.parse(cid))) return false
    return true
  })
  for (const cid of heldCids) t.ok(await isPinned(custodian.helia, CID.parse(cid)), `the custodian keeps its own pin of ${cid}`)
  const warnings = [monitorLog, nodeLog].map(log => warningsOf(log.entries, lostId).length)
  // both catalogues have read the retirements (above); one more sync of each is then seen through a new film
  const next = await registerFilm({ custodian, creator, contractAddress: devnet.contractAddress, bytes: 1000 })
  await waitFor('the monitor to list the next film', async () => {
    fleet = await getJson<Fleet>(`${monitor.url}/api/fleet`)
    return fleet.films.some(film => film.tokenId === next.tokenId && film.title !== null)
  })
  await waitFor('the node to hold it', async () => await isPinned(node.helia, next.contentCid))
  t.same(
    [monitorLog, nodeLog].map(log => warningsOf(log.entries, lostId).length),
    warnings,
    'no warning of the retired film since its retirement was read'
  )
})
