// Boxes for bench/monitor-scale.ts: real device keys, their health reports at a real size, signed as a
// box signs them, and their node records written into a monitor's store as its checks leave them.
import { generateKeyPair } from '@libp2p/crypto/keys'
import { peerIdFromPrivateKey } from '@libp2p/peer-id'
import { signPayload } from '../server/identity/device-signature.ts'
import type { NodeRecord } from '../server/monitor/node-store.ts'
import { openStateDb } from '../server/storage/state-db.ts'
import type { HealthReport, SignedReport } from '../server/wire/monitor-protocol.ts'
import { filmCid, healthReport } from '../test/helpers/monitor.ts'

export interface BenchBox {
  deviceId: string
  apiUrl: string
  held: string[]
  sign(bytes: Uint8Array): Promise<Uint8Array>
}

/** `count` boxes with keys of their own, each holding `held()` CIDs. */
export async function makeBoxes(count: number, held: (i: number) => string[]): Promise<BenchBox[]> {
  const boxes: BenchBox[] = []
  for (let i = 0; i < count; i++) {
    const key = await generateKeyPair('Ed25519')
    // 127.0.0.1 on a closed port: a check the monitor might start fails at once, not after a timeout
    boxes.push({
      deviceId: peerIdFromPrivateKey(key).toString(),
      apiUrl: `http://127.0.0.1:${10_000 + i}`,
      held: held(i),
      sign: async b => await key.sign(b)
    })
  }
  return boxes
}

/** `n` fresh film CIDs (59 characters each, as a film root's). */
export const filmCids = (n: number): string[] => Array.from({ length: n }, filmCid)

/** `n` distinct CIDs of `pool`, at random: a node's share of a catalogue. */
export function sample(pool: string[], n: number): string[] {
  const picked = new Set<string>()
  while (picked.size < n) picked.add(pool[Math.floor(Math.random() * pool.length)])
  return [...picked]
}

/** The box's report number `seq`, with the addresses a box on a home network announces. */
export function boxReport(box: Omit<BenchBox, 'sign'>, seq: number): HealthReport {
  const p2p = `/p2p/${box.deviceId}`
  return {
    ...healthReport(box, seq, { apiUrl: box.apiUrl, held: box.held }),
    multiaddrs: [`/ip4/192.168.1.23/tcp/4001${p2p}`, `/ip4/203.0.113.7/tcp/4001${p2p}`, `/ip4/203.0.113.7/udp/4001/quic-v1${p2p}`]
  }
}

/** Reports `firstSeq`… of every box, signed, box after box in each round (so one box's seqs are far apart). */
export async function signedReports(boxes: BenchBox[], firstSeq: number, rounds: number): Promise<SignedReport[]> {
  const signed: SignedReport[] = []
  for (let round = 0; round < rounds; round++)
    for (const box of boxes) signed.push(await signPayload(box, boxReport(box, firstSeq + round)))
  return signed
}

/**
 * Writes each box into the monitor store in `dataDir` as the monitor keeps it once its first report was
 * accepted, its apiUrl answered for its key and each claim passed a challenge: done here in batches,
 * since the monitor's own way (one synced write per step) would take hours for 10 000 nodes.
 */
export async function seedNodes(dataDir: string, boxes: Array<Omit<BenchBox, 'sign'>>, at = new Date()): Promise<void> {
  const db = await openStateDb(dataDir)
  const nodes = db.sublevel<string, NodeRecord>('nodes', { valueEncoding: 'json' })
  const receivedAt = at.toISOString()
  for (let i = 0; i < boxes.length; i += 1000) {
    await nodes.batch(
      boxes.slice(i, i + 1000).map(box => ({
        type: 'put' as const,
        key: box.deviceId,
        value: {
          deviceId: box.deviceId,
          report: boxReport(box, 1),
          receivedAt,
          firstSeenAt: receivedAt,
          verifiedApiUrl: box.apiUrl,
          verifiedHeld: box.held
        }
      }))
    )
  }
  await db.close()
}
