// What the TV UI tests stand on, all real and in this process: the devnet, a custodian that publishes
// generated clips with ffmpeg, the owner's purchases, and a box (player) that is not paired yet.
import type { Wallet } from 'ethers'
import type { Daemon } from '../../server/daemon.ts'
import type { DaemonConfig } from '../../server/config.ts'
import type { Devnet } from '../../server/devnet/devnet.ts'
import type { FilmMetadata } from '../../server/library/film-metadata.ts'
import { generateDemoClip } from '../../server/publish/demo-clip.ts'
import { daemonPublishContext, publishFilm, type PublishRequest } from '../../server/publish/publish-film.ts'
import { devnetWallet, startTestDevnet } from './devnet.ts'
import { buyFilm } from './films.ts'
import { daemonConfig, startTestDaemon, testDir, type Test } from './in-process.ts'

const PRICE_WEI = 10n ** 15n

export interface TvWorld {
  devnet: Devnet
  custodian: Daemon
  /** The box the TV's browser opens: a player, unpaired. */
  box: Daemon
  boxDir: string
  owner: Wallet
  creator: Wallet
}

/** Starts the world; `box` adds to the box's configuration (a disk state file, say). */
export async function startTvWorld(t: Test, box: Partial<DaemonConfig> = {}): Promise<TvWorld> {
  const devnet = await startTestDevnet(t)
  const custodian = await startTestDaemon(t, daemonConfig(devnet, testDir(t, 'custodian'), ['custodian']))
  const boxDir = testDir(t, 'box')
  const player = await startTestDaemon(t, { ...daemonConfig(devnet, boxDir, ['player'], custodian.multiaddrs()), ...box })
  return {
    devnet,
    custodian,
    box: player,
    boxDir,
    owner: devnetWallet(t, devnet, devnet.accounts.owner.privateKey),
    creator: devnetWallet(t, devnet, devnet.accounts.creator.privateKey)
  }
}

/**
 * Publishes a generated clip (a 320x180 test pattern with a tone and English subtitles: small, so a
 * long one is quick to make and to pin) and has the owner buy it. Returns its token id.
 */
export async function publishClip(
  t: Test,
  world: TvWorld,
  opts: { title: string; seconds: number; contentClass?: FilmMetadata['contentClass'] }
): Promise<string> {
  const clip = await generateDemoClip(testDir(t, `clip-${opts.title.replace(/\W+/g, '-')}`), {
    seconds: opts.seconds,
    width: 320,
    height: 180
  })
  return await publishAndBuy(world, {
    input: clip.video,
    title: opts.title,
    synopsis: `A generated test pattern, ${opts.seconds} s long, with a tone and English subtitles.`,
    subtitles: [{ file: clip.subtitles, language: 'en', label: 'English' }],
    contentClass: opts.contentClass ?? 'production'
  })
}

/** Publishes a film on the custodian (as `seed-one publish` would) and has the owner buy it. Returns its token id. */
export async function publishAndBuy(world: TvWorld, request: Omit<PublishRequest, 'priceWei'>): Promise<string> {
  const film = await publishFilm(daemonPublishContext(world.custodian, world.creator), { ...request, priceWei: PRICE_WEI })
  await buyFilm(world.owner, world.devnet.contractAddress, film.tokenId, PRICE_WEI)
  return film.tokenId
}
