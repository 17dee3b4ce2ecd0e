// Keeping a storage node connected to the boxes it knows: bootstrap peers and peers found on the LAN.
import { KEEP_ALIVE, type Libp2p, type PeerId } from '@libp2p/interface'
import type { Multiaddr } from '@multiformats/multiaddr'

const BOOTSTRAP_TAG = `${KEEP_ALIVE}-seed-one-bootstrap`
const DIAL_TIMEOUT_MS = 5_000

export interface BootstrapPeer {
  address: Multiaddr
  peerId: PeerId
}

/** libp2p records the peers mDNS (and the DHT) finds but does not dial them: dial each once, so bitswap can reach it. */
export function dialDiscoveredPeers(libp2p: Libp2p): void {
  const log = libp2p.logger.forComponent('seed-one:storage')
  libp2p.addEventListener('peer:discovery', event => {
    const peer = event.detail
    if (libp2p.getConnections(peer.id).length > 0) return
    libp2p.dial(peer.id, { signal: AbortSignal.timeout(DIAL_TIMEOUT_MS) }).catch(err => {
      log('could not dial discovered peer %p - %e', peer.id, err)
    })
  })
}

/**
 * Tags each bootstrap peer keep-alive (libp2p then redials it when the connection drops and at every
 * start) and dials it now. A peer that is down does not fail the start: it is logged and retried
 * by libp2p when it reappears in the peer store.
 */
export async function dialBootstrapPeers(libp2p: Libp2p, peers: BootstrapPeer[]): Promise<void> {
  const log = libp2p.logger.forComponent('seed-one:storage')
  await Promise.all(
    peers.map(async ({ address, peerId }) => {
      if (peerId.equals(libp2p.peerId)) return
      await libp2p.peerStore.merge(peerId, { multiaddrs: [address], tags: { [BOOTSTRAP_TAG]: { value: 1 } } })
      try {
        await libp2p.dial(address, { signal: AbortSignal.timeout(DIAL_TIMEOUT_MS) })
      } catch (err) {
        log.error('could not dial bootstrap peer %a - %e', address, err)
      }
    })
  )
}
