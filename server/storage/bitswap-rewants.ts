// Wanting a block over bitswap again, or by two reads at once: workarounds around three places where
// @helia/bitswap 4.0.19 loses a want (the replication flake, issue 15; test/bitswap-rewant.test.ts):
// the wanting side (want-list.js) twice, and the sending side (peer-want-lists/ledger.js).
import type { PeerId } from '@libp2p/interface'
import { equals } from 'multiformats/bytes'
import { CID } from 'multiformats/cid'

/**
 * In @helia/bitswap 4.0.19 a peer's ledger keeps each want it answered, as `sent`, until an expiry
 * (doNotResendBlockWindow, 5 s) that is only looked at when the ledger next sends; the requesting
 * side never sends the cancel that would remove it (WantList.sendMessages skips cancelled entries).
 * When the peer wants that block again (it lost it: a read aborted as the block arrived, a deleted
 * replica, collected garbage), `addWants` finds the entry `sent` and leaves it so, and the send
 * that follows drops it as expired: the want is swallowed, and the peer, which sends each want
 * once per connection, waits until its read gives up (the replication flake, issue 15;
 * test/bitswap-rewant.test.ts). So after bitswap has taken a message, each want in it that the
 * ledger does not hold as pending is put back as a new want, and a send is queued.
 */
export function honourRepeatedWants(bitswap: BitswapInternals): void {
  const { network, peerWantLists } = bitswap
  // added after bitswap's own listener (in its constructor), so it sees the ledger bitswap left
  network.addEventListener('bitswap:message', evt => {
    const { connection, message } = evt.detail
    const ledger = peerWantLists.ledgerMap.get(connection.remotePeer)
    const wanted = message.wantlist?.entries.filter(entry => entry.cancel !== true) ?? []
    if (ledger === undefined || wanted.length === 0) return
    const held = new Map([...ledger.wants].map(([key, want]) => [digestKey(want.cid), { key, want }]))
    const again = wanted.filter(entry => {
      const found = held.get(digestKey(CID.decode(entry.cid)))
      if (found === undefined) return true
      if (found.want.status !== 'sent') return false
      ledger.wants.delete(found.key)
      return true
    })
    if (again.length === 0) return
    ledger.addWants({ full: false, entries: again })
    ledger.queueSendOperation()
  })
}

/**
 * In @helia/bitswap 4.0.19 a want that ends (its block came, or its read was aborted) is marked
 * `cancel` and stays in the want list until the next debounced send of wants, which waits for the
 * send in progress (to every peer) and then drops it unsent. A read of the same block in that
 * window joins the marked entry: its want is never sent, and it waits until it is aborted (a pin's
 * stall, then a retry that can land in the same window). Called before each bitswap read: drops a
 * marked entry for `cid` (as that send would, from the list and from what each peer was sent), so
 * the read makes a fresh want that goes out.
 */
export function forgetEndedWant(bitswap: BitswapInternals, cid: CID): void {
  const { wants, peers } = bitswap.wantList
  for (const [key, want] of wants) {
    if (!want.cancel || !equals(want.cid.multihash.bytes, cid.multihash.bytes)) continue
    wants.delete(key)
    for (const sent of peers.values()) sent.delete(key)
  }
}

/**
 * In @helia/bitswap 4.0.19 the reads of one block share one want-list entry, and the first of them
 * to be aborted (readRange ends its reads-ahead, a pin stalls) cancels it: it leaves the want
 * list, so a peer that connects later is not asked (its full want list leaves it out), while the
 * other reads wait on. So bitswap sees one read per block, aborted when the last of its readers
 * gives up; each reader waits for it under its own signal.
 */
export function sharedWants<T extends { signal?: AbortSignal }>(
  retrieve: (cid: CID, options?: T) => Promise<Uint8Array>
): (cid: CID, options?: T) => Promise<Uint8Array> {
  const wants = new Map<string, { block: Promise<Uint8Array>; readers: number; controller: AbortController }>()
  return async (cid, options) => {
    const key = digestKey(cid)
    let want = wants.get(key)
    if (want === undefined) {
      const controller = new AbortController()
      want = { block: retrieve(cid, { ...options, signal: controller.signal } as T), readers: 0, controller }
      want.block.catch(() => {}) // each reader awaits it; once all have left, nobody does
      wants.set(key, want)
    }
    const joined = want
    joined.readers++
    try {
      return await untilAborted(joined.block, options?.signal)
    } finally {
      if (--joined.readers === 0) {
        if (wants.get(key) === joined) wants.delete(key)
        joined.controller.abort()
      }
    }
  }
}

/** `promise`, or the signal's reason as soon as it is aborted. */
async function untilAborted<T>(promise: Promise<T>, signal: AbortSignal | undefined): Promise<T> {
  if (signal === undefined) return await promise
  signal.throwIfAborted()
  let onAbort = (): void => {}
  try {
    return await Promise.race([
      promise,
      new Promise<never>((_resolve, reject) => {
        onAbort = () => reject(signal.reason)
        signal.addEventListener('abort', onAbort, { once: true })
      })
    ])
  } finally {
    signal.removeEventListener('abort', onAbort)
  }
}

const digestKey = (cid: CID): string => Buffer.from(cid.multihash.bytes).toString('base64')

/**
 * The parts of @helia/bitswap 4.0.19's Bitswap (BitswapBlockBroker's `bitswap`) this reaches into.
 * The version is pinned in package.json; a release that moves them fails test/bitswap-rewant.test.ts.
 * Drop these workarounds once a release sends cancels and answers a repeated want.
 */
export interface BitswapInternals {
  network: {
    addEventListener(
      type: 'bitswap:message',
      listener: (evt: CustomEvent<{ connection: { remotePeer: PeerId }; message: WireMessage }>) => void
    ): void
  }
  peerWantLists: { ledgerMap: { get(peer: PeerId): Ledger | undefined } }
  wantList: {
    wants: Map<string, { cid: CID; cancel: boolean }>
    /** Per peer, the keys of the wants sent to it. */
    peers: { values(): Iterable<Set<string>> }
  }
}

interface WireWant {
  cid: Uint8Array
  cancel?: boolean
}

interface WireMessage {
  wantlist?: { entries: WireWant[]; full?: boolean }
}

interface Ledger {
  wants: Map<string, { cid: CID; status: 'want' | 'sending' | 'sent' }>
  addWants(wantlist: { entries: WireWant[]; full: boolean }): void
  queueSendOperation(): void
}
