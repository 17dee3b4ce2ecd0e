import path from 'node:path'
import { JsonRpcProvider, Wallet, type Contract } from './lib/ethers.ts'
import { startDevnet } from './devnet/devnet.ts'
import { devnetAccounts } from './devnet/accounts.ts'
import { startDaemon, type Daemon } from './daemon.ts'
import { createShutdown } from './lib/shutdown.ts'
import { assertPortFree, type PortOwner } from './lib/port-check.ts'
import { resolveDaemonConfig, type DaemonConfig } from './config.ts'
import { generateDemoClip } from './publish/demo-clip.ts'
import { withPlaintextWorkDir } from './publish/work-dir.ts'
import { daemonPublishContext, publishFilm } from './publish/publish-film.ts'
import { publishedFilms } from './keys/published-films.ts'
import { lanAuthority } from './lib/listen-addresses.ts'

export interface Demo {
  box: Daemon
  custodian: Daemon
  /** Where a browser opens the box: with a wildcard --host, by the machine's LAN address, so a phone can open the pairing QR code. */
  url: string
  /**
   * Opened once in a browser, signs it in as the devnet owner: the newcomer has no wallet to sign the
   * pairing code with. A new one at each start; each works once.
   */
  signInLink: string
  close(): Promise<void>
}

const DEMO_TITLE = 'Test Pattern'
const DEMO_PRICE_WEI = 10n ** 16n
/** Past the five minutes a film needs before the TV offers Resume (RESUME_MIN_DURATION_SEC), so a newcomer sees it. */
const DEMO_SECONDS = 6 * 60

/**
 * Everything a first run needs, on embedded defaults: the devnet chain, a custodian that has
 * published the demo film, a devnet-only owner wallet that bought it, and a Seed One paired to that
 * wallet. Kept in `dataDir`, so a second run comes back as it was, without publishing again.
 */
export async function startDemo(opts: { dataDir: string; port: number; host?: string; say(line: string): void }): Promise<Demo> {
  const { dataDir, say } = opts
  const host = opts.host ?? '127.0.0.1'
  // before the devnet and the daemons make anything in dataDir
  const custodianPort: PortOwner = { flag: '--port', role: "the demo's custodian, at --port + 1" }
  await assertPortFree(host, opts.port, { flag: '--port' })
  await assertPortFree('127.0.0.1', opts.port + 1, custodianPort)
  const devnet = await startDevnet({ port: 0, stateDir: path.join(dataDir, 'devnet') })
  const shutdown = createShutdown()
  shutdown.add(() => devnet.close())
  try {
    const base = (name: string, host: string, port: number, roles: DaemonConfig['roles'], peers: string[]): DaemonConfig =>
      resolveDaemonConfig(
        {
          'data-dir': path.join(dataDir, name),
          host,
          port: String(port),
          role: roles,
          'rpc-url': devnet.rpcUrl,
          contract: devnet.contractAddress,
          'deployment-block': String(devnet.deploymentBlock),
          'p2p-listen': ['/ip4/127.0.0.1/tcp/0'],
          peer: peers,
          'chain-poll-ms': '1000'
        },
        {}
      )
    // The custodian stays on loopback whatever --host says: only the box (over loopback libp2p) and this
    // process talk to it, and its API (key releases, publishing) is nothing the LAN needs to reach.
    const custodian = await startDaemon(base('custodian', '127.0.0.1', opts.port + 1, ['custodian'], []), {
      logLevel: 'warn',
      portOwner: custodianPort
    })
    shutdown.add(custodian.close)

    // The wallets' own provider does not cache: the owner reads and buys right after the creator registers.
    const provider = new JsonRpcProvider(devnet.rpcUrl, devnet.chainId, { staticNetwork: true, cacheTimeout: -1 })
    shutdown.add(() => provider.destroy())
    const creator = new Wallet(devnetAccounts.creator.privateKey, provider)
    const owner = new Wallet(devnetAccounts.owner.privateKey, provider)

    let film = (await publishedFilms(custodian.db).list())[0]
    if (film === undefined) {
      say('Publishing the demo film (a generated 6-minute 720p clip with English subtitles)…')
      film = await withPlaintextWorkDir(async dir => {
        const clip = await generateDemoClip(dir, { seconds: DEMO_SECONDS, repeatEverySeconds: 30 })
        return await publishFilm(
          daemonPublishContext(custodian, creator, (step, fraction) => {
            if (fraction === 1) say(`  ${step} done`)
          }),
          {
            input: clip.video,
            title: DEMO_TITLE,
            synopsis: 'A generated test pattern with a tone and subtitles: the film every new Seed One starts with.',
            subtitles: [{ file: clip.subtitles, language: 'en', label: 'English' }],
            contentClass: 'demo',
            priceWei: DEMO_PRICE_WEI
          }
        )
      })
    }
    const filmToken = custodian.chain.contract.connect(owner) as Contract
    if ((await filmToken.balanceOf(owner.address, film.tokenId)) === 0n) {
      say(`The devnet owner wallet ${owner.address} buys a token of "${film.title}"…`)
      await (await filmToken.buy(film.tokenId, 1, { value: DEMO_PRICE_WEI })).wait()
    }

    const box = await startDaemon(base('box', host, opts.port, ['player'], custodian.multiaddrs()), { logLevel: 'warn' })
    shutdown.add(box.close)
    await pairAsOwner(box.url, owner)
    return { box, custodian, ...(await lanLinks(box, host)), close: shutdown.run }
  } catch (err) {
    await shutdown.run()
    throw err
  }
}

/**
 * The box's URL and a one-time sign-in link on the address a browser on the LAN opens it by (box.url is
 * loopback for a wildcard host). The pairing page's QR code names the address the TV opened, so a TV that
 * opens these hands a phone an address it can reach (server/pairing/phone-authority.ts).
 */
async function lanLinks(box: Daemon, host: string): Promise<{ url: string; signInLink: string }> {
  const url = `http://${lanAuthority(host, Number(new URL(box.url).port))}`
  const link = new URL(await (box.signInLink as () => Promise<string>)())
  return { url, signInLink: `${url}${link.pathname}${link.search}` }
}

/** Pairs the box the way the owner's phone would: read the code, sign the message, send it. */
export async function pairAsOwner(boxUrl: string, owner: Wallet): Promise<void> {
  const state = (await (await fetch(new URL('/api/pairing', boxUrl))).json()) as { paired: boolean; code?: string }
  if (state.paired) return
  const query = new URLSearchParams({ address: owner.address, code: state.code as string })
  const { message } = (await (await fetch(new URL(`/api/pairing/message?${query}`, boxUrl))).json()) as { message: string }
  const response = await fetch(new URL('/api/pairing', boxUrl), {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ message, signature: await owner.signMessage(message) })
  })
  if (!response.ok) throw new Error(`pairing failed: ${response.status} ${await response.text()}`)
}
