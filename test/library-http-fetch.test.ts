// A box with no monitor pins a bought film over HTTP from the film's custodian: the metadata names it,
// and every box serves its blocks over the block route (storage/block-fetcher.ts hintHolder, set by the
// library for the pin). Real daemons on a devnet, no monitor; the player is connected to the custodian
// over libp2p too, so bitswap could carry everything and is left only what the custodian cannot serve.
// A custodian whose block route sends wrong bytes is refused, and the pin completes over bitswap.
import t from 'tap'
import http from 'node:http'
import { randomBytes } from 'node:crypto'
import type { AddressInfo } from 'node:net'
import type { Wallet } from 'ethers'
import type { CID } from 'multiformats/cid'
import type { Daemon } from '../server/daemon.ts'
import { metadataCidFromUri } from '../server/library/film-metadata.ts'
import { BLOCK_PATH } from '../server/wire/monitor-protocol.ts'
import { dagBytes } from './helpers/blocks.ts'
import { connectDevnet, devnetWallet, startTestDevnet } from './helpers/devnet.ts'
import { buyFilm, registerFilm } from './helpers/films.ts'
import { libraryFilm } from './helpers/http.ts'
import { daemonConfig, startTestDaemon, testDir, type Test } from './helpers/in-process.ts'
import { signedInCookie } from './helpers/owner-session.ts'
import { waitFor } from './helpers/wait-for.ts'

const MiB = 1024 * 1024

const devnet = await startTestDevnet(t)
const creator = devnetWallet(t, devnet, devnet.accounts.creator.privateKey)
// a collector each, so that neither player also works on the other test's film (its custodian gone by then)
const owner = devnetWallet(t, devnet, devnet.accounts.owner.privateKey)
const otherCollector = devnetWallet(t, devnet, devnet.accounts.otherCollector.privateKey)
const { creator: token } = connectDevnet(t, devnet)

/** A custodian in front of `custodianUrl`: its key release answered by the real one, its block route with bytes that are not the block. */
async function startLyingCustodian(t: Test, custodianUrl: string): Promise<{ url: string; blockRequests: () => number }> {
  const target = new URL(custodianUrl)
  const blockPrefix = BLOCK_PATH.replace(':cid', '')
  let blockRequests = 0
  const server = http.createServer((request, response) => {
    if (request.method === 'GET' && request.url?.startsWith(blockPrefix) === true) {
      blockRequests++
      response.writeHead(200, { 'content-type': 'application/vnd.ipld.raw' }).end(randomBytes(1024))
      return
    }
    const upstream = http.request(
      { host: target.hostname, port: target.port, path: request.url, method: request.method, headers: request.headers },
      answer => {
        response.writeHead(answer.statusCode ?? 502, answer.headers)
        answer.pipe(response)
      }
    )
    upstream.on('error', () => response.destroy())
    request.pipe(upstream)
  })
  await new Promise<void>(resolve => server.listen(0, '127.0.0.1', resolve))
  t.teardown(async () => {
    server.closeAllConnections()
    await new Promise(resolve => server.close(resolve))
  })
  return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, blockRequests: () => blockRequests }
}

/** A player box following `custodian` over libp2p, no monitor, whose owner `buyer` buys the film: ready. */
async function buyOnNewPlayer(t: Test, custodian: Daemon, buyer: Wallet, tokenId: string): Promise<Daemon> {
  const box = await startTestDaemon(t, daemonConfig(devnet, testDir(t, 'player'), ['player'], custodian.multiaddrs()))
  const screen = await signedInCookie(box.url, buyer)
  await buyFilm(buyer, devnet.contractAddress, tokenId)
  await waitFor('the film to be ready on the player', async () => (await libraryFilm(box.url, tokenId, screen))?.state === 'ready', {
    timeoutMs: 120_000
  })
  return box
}

const metadataCidOf = async (tokenId: string): Promise<CID> => metadataCidFromUri((await token.getFunction('uri')(tokenId)) as string)

t.test('without a monitor, the library pins a film over the block route of its custodian', async t => {
  const custodian = await startTestDaemon(t, daemonConfig(devnet, testDir(t, 'custodian'), ['custodian']))
  const film = await registerFilm({ custodian, creator, contractAddress: devnet.contractAddress, bytes: 3 * MiB })
  const box = await buyOnNewPlayer(t, custodian, owner, film.tokenId)

  const metadataBytes = await dagBytes(custodian.helia, await metadataCidOf(film.tokenId))
  const contentBytes = await dagBytes(custodian.helia, film.contentCid)
  const figures = box.helia.fetcher.figures()
  t.equal(figures.refusedAnswers, 0, 'no answer refused')
  // the metadata is read before the box knows the custodian: it alone comes over bitswap
  t.equal(figures.bitswapBytes, metadataBytes, `only the metadata came over bitswap (${figures.bitswapBytes} bytes)`)
  t.ok(
    figures.httpBytes > contentBytes,
    `the content's ${contentBytes} bytes and the poster came from the custodian over HTTP (${figures.httpBytes} bytes)`
  )
  t.ok(
    Buffer.from(await box.helia.content.readBytes(film.contentCid)).equals(await custodian.helia.content.readBytes(film.contentCid)),
    'the film is whole'
  )
})

t.test('a custodian whose block route sends wrong bytes is refused: the pin completes over bitswap', async t => {
  const custodian = await startTestDaemon(t, daemonConfig(devnet, testDir(t, 'custodian'), ['custodian']))
  const liar = await startLyingCustodian(t, custodian.url)
  const film = await registerFilm({ custodian, creator, contractAddress: devnet.contractAddress, bytes: 3 * MiB, custodianUrl: liar.url })
  const box = await buyOnNewPlayer(t, custodian, otherCollector, film.tokenId)

  const figures = box.helia.fetcher.figures()
  t.ok(liar.blockRequests() >= 1, `the custodian's block route was asked (${liar.blockRequests()} times)`)
  // requests sent together are all answered wrongly; after the first wrong answer it is asked no more
  t.equal(figures.refusedAnswers, liar.blockRequests(), 'every wrong answer refused')
  t.equal(figures.httpBytes, 0, 'nothing taken over HTTP')
  t.ok(
    figures.bitswapBytes > (await dagBytes(custodian.helia, film.contentCid)),
    `the film came over bitswap (${figures.bitswapBytes} bytes)`
  )
  t.ok(
    Buffer.from(await box.helia.content.readBytes(film.contentCid)).equals(await custodian.helia.content.readBytes(film.contentCid)),
    'nothing of the wrong bytes was stored'
  )
})
