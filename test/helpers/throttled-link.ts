// A home uplink between two hosts on 127.0.0.1, simulated in this process (no namespace or tc needed):
// a TCP proxy that delays each direction by half the round trip and paces it at the link's rate.
import net from 'node:net'
import type { AddressInfo } from 'node:net'
import { pipeline } from 'node:stream/promises'
import { Transform } from 'node:stream'

export interface LinkShape {
  /** Round-trip time added, split evenly between the two directions. */
  rttMs: number
  /** Bytes per second in each direction (a home box's upload rate: 10 Mbit/s is 1.25e6). */
  bytesPerSec: number
}

/** Pieces a chunk is paced in, so that a 64 KiB read is not sent as one burst. */
const PIECE_BYTES = 16 * 1024

/** One direction of the link, shared by every connection through it (an uplink is one pipe): when it is next free, and what it carried. */
interface Direction {
  freeAt: number
  bytes: number
}

/**
 * Bytes a connection may have waiting in the link before its sender is held back, as a router's
 * queue would: without it a sender could queue a whole challenge's leaves at once, and a ping behind
 * them would time out where on a real link TCP would have slowed the sender down.
 */
const QUEUE_BYTES = 256 * 1024

/** One connection's share of a direction: every piece leaves, in order, when the link is free for it plus the one-way delay. */
function shaped(shape: LinkShape, direction: Direction): Transform {
  const delayMs = shape.rttMs / 2
  const queue: Array<{ at: number; piece: Buffer }> = []
  let queued = 0
  let timer: NodeJS.Timeout | undefined
  let held: (() => void) | undefined
  let flushed: (() => void) | undefined
  const wake = (stream: Transform): void => {
    timer ??= setTimeout(drain, Math.max(0, queue[0].at - performance.now()), stream)
  }
  const drain = (stream: Transform): void => {
    timer = undefined
    while (queue.length > 0 && queue[0].at <= performance.now()) {
      const piece = queue.shift()?.piece as Buffer
      queued -= piece.length
      direction.bytes += piece.length
      stream.push(piece)
    }
    if (queued < QUEUE_BYTES && held !== undefined) {
      const resume = held
      held = undefined
      resume()
    }
    if (queue.length > 0) wake(stream)
    else flushed?.()
  }
  return new Transform({
    transform(chunk: Buffer, _encoding, done) {
      for (let at = 0; at < chunk.length; at += PIECE_BYTES) {
        const piece = chunk.subarray(at, at + PIECE_BYTES)
        direction.freeAt = Math.max(performance.now(), direction.freeAt) + (piece.length * 1000) / shape.bytesPerSec
        queue.push({ at: direction.freeAt + delayMs, piece })
        queued += piece.length
      }
      wake(this)
      if (queued < QUEUE_BYTES) done()
      else held = done
    },
    flush(done) {
      if (queue.length === 0) done()
      else flushed = done
    },
    destroy(err, callback) {
      clearTimeout(timer)
      callback(err)
    }
  })
}

export interface ThrottledLink {
  url: string
  /** Bytes the link has delivered from the target so far. */
  delivered(): number
  close(): Promise<void>
}

/** A proxy to `targetUrl` (http://host:port) through a link of `shape`. */
export async function startThrottledLink(targetUrl: string, shape: LinkShape): Promise<ThrottledLink> {
  const target = new URL(targetUrl)
  const sockets = new Set<net.Socket>()
  const up: Direction = { freeAt: 0, bytes: 0 }
  const down: Direction = { freeAt: 0, bytes: 0 }
  const server = net.createServer(client => {
    const upstream = net.connect(Number(target.port), target.hostname)
    for (const socket of [client, upstream]) {
      sockets.add(socket)
      socket.once('close', () => sockets.delete(socket))
    }
    const end = (): void => {
      client.destroy()
      upstream.destroy()
    }
    pipeline(client, shaped(shape, up), upstream).catch(end)
    pipeline(upstream, shaped(shape, down), client).catch(end)
  })
  await new Promise<void>(resolve => server.listen(0, '127.0.0.1', resolve))
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    delivered: () => down.bytes,
    close: () =>
      new Promise<void>(resolve => {
        for (const socket of sockets) socket.destroy()
        server.close(() => resolve())
      })
  }
}
